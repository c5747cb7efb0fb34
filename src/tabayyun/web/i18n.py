"""Interface strings of the workbench in Arabic (first) and English.

Every string a page shows that is not scraped text comes from `STRINGS` through `translator(lang)`; an
unknown key is an error (KeyError), so a page cannot silently show a key instead of words. The
language comes from `?lang=` (remembered in a cookie), else the cookie, else Arabic.
"""

from __future__ import annotations

from typing import Callable

LANGUAGES = ("ar", "en")
DEFAULT_LANGUAGE = "ar"
COOKIE = "tabayyun_lang"

# key -> (Arabic, English); `{name}` fields are filled by the caller.
STRINGS: dict[str, tuple[str, str]] = {
    "app_name": ("تبيّن", "tabayyun"),
    "tagline": ("منضدة التحقق من الأخبار", "news verification workbench"),
    "skip_to_content": ("انتقل إلى المحتوى", "Skip to content"),
    "nav_home": ("الرئيسية", "Home"),
    "nav_search": ("البحث", "Search"),
    "nav_claim": ("تحقق من ادعاء", "Check a claim"),
    "nav_stories": ("القصص", "Stories"),
    "nav_ingest": ("إضافة مواد", "Add material"),
    "switch_language": ("English", "العربية"),
    "footer": ("تبيّن يعمل على جهازك: لا يُرسل شيء إلى الخارج.",
               "tabayyun runs on your machine: nothing is sent elsewhere."),
    # home
    "home_title": ("مساحة العمل", "Workspace"),
    "count_documents": ("مقالات", "documents"),
    "count_outlets": ("منافذ", "outlets"),
    "count_stories": ("قصص", "stories"),
    "count_entities": ("كيانات", "entities"),
    "count_quotes": ("اقتباسات", "quotes"),
    "count_failures": ("إخفاقات الإدخال", "ingest failures"),
    "newest_stories": ("أحدث القصص", "Newest stories"),
    "all_stories": ("كل القصص", "All stories"),
    "stories_shown": ("أحدث {shown} قصة من {total}.", "The newest {shown} of {total} stories."),
    "no_stories": ("لا قصص بعد. أضف مقالات لتظهر هنا.", "No stories yet. Add articles to see them here."),
    "empty_workspace": ("مساحة العمل فارغة. ابدأ بإضافة مقالات.", "The workspace is empty. Start by adding articles."),
    "search_placeholder": ("ابحث في المقالات…", "Search the articles…"),
    "claim_placeholder": ("اكتب ادعاءً للتحقق منه…", "Write a claim to check…"),
    "search_button": ("ابحث", "Search"),
    "check_button": ("تحقق", "Check"),
    "recent_failures": ("آخر إخفاقات الإدخال", "Latest ingest failures"),
    # stories
    "stories_title": ("القصص", "Stories"),
    "story_title": ("قصة", "Story"),
    "story_label": ("العنوان", "Label"),
    "span": ("المدة", "Span"),
    "size": ("عدد المقالات", "Articles"),
    "outlets": ("المنافذ", "Outlets"),
    "entities": ("الكيانات", "Entities"),
    "documents_by_date": ("المقالات حسب التاريخ", "Documents by date"),
    "why_started": ("بدأ القصة", "started the story"),
    "why_closest": ("أقرب قصة {story} بدرجة {score}", "closest story {story}: {score}"),
    "why_stretch": ("، كانت ستمتد بها {span} يوما", ", which it would have stretched over {span} days"),
    "why_few_words": ("القصة {story} قريبة في المعنى ({score}) لكن الكلمات المشتركة قليلة",
                      "story {story} alike in meaning ({score}) but few shared words"),
    "why_too_far": ("القصة {story} أبعد من نافذتها الزمنية بـ{days} يوم", "story {story}: {days} days outside its span"),
    "why_duplicate": ("نسخة شبه مطابقة من", "near-duplicate of"),
    "why_joined": ("انضم بدرجة {score}", "joined with score {score}"),
    "why_parts": ("المعنى {embedding} · الكلمات {terms} · الأسماء {entities}",
                  "meaning {embedding} · words {terms} · names {entities}"),
    "why_parts_words": ("الكلمات {terms} · الأسماء {entities}", "words {terms} · names {entities}"),
    "timeline": ("الخط الزمني", "Timeline"),
    "no_timeline": ("لا أحداث مؤرخة.", "No dated events."),
    "undated": ("بلا تاريخ", "undated"),
    "dated_inside": ("يوم أرّخه المقال", "a day the article dates"),
    "event_kind_published": ("نُشر", "published"),
    "event_kind_reported": ("حدث مروي", "reported"),
    "event_kind_scheduled": ("موعد لاحق", "scheduled"),
    # search
    "search_title": ("البحث", "Search"),
    "results_for": ("نتائج البحث عن «{query}»", "Results for “{query}”"),
    "results_count": ("{total} نتيجة", "{total} results"),
    "no_results": ("لا نتائج. جرّب كلمات أخرى أو أزل بعض المرشحات.",
                   "No results. Try other words or remove some filters."),
    "search_hint": ("اكتب كلمات للبحث في نصوص المقالات وعناوينها.",
                    "Type words to search the articles' text and titles."),
    "facet_outlet": ("المنفذ", "Outlet"),
    "facet_year": ("السنة", "Year"),
    "facet_entity": ("الكيان", "Entity"),
    "facet_story": ("القصة", "Story"),
    "facet_stance": ("الموقف من الادعاء", "Stance to the claim"),
    "date_range": ("نطاق التاريخ", "Date range"),
    "since": ("من", "From"),
    "until": ("إلى", "To"),
    "apply": ("طبّق", "Apply"),
    "clear_filter": ("إزالة", "remove"),
    "active_filters": ("المرشحات", "Filters"),
    "active_claim": ("الادعاء", "Claim"),
    "claim_filter_hint": ("أضف ادعاءً لترى موقف كل نتيجة منه.", "Add a claim to see each result's stance to it."),
    "previous": ("السابق", "Previous"),
    "next": ("التالي", "Next"),
    "page_n": ("صفحة {page}", "page {page}"),
    "search_note": ("ملاحظة", "Note"),
    # document
    "document_title": ("مقال", "Article"),
    "untitled": ("بلا عنوان", "Untitled"),
    "outlet": ("المنفذ", "Outlet"),
    "published": ("تاريخ النشر", "Published"),
    "url": ("الرابط", "URL"),
    "language": ("اللغة", "Language"),
    "unknown": ("غير معروف", "unknown"),
    "legend": ("دليل الألوان", "Legend"),
    "legend_person": ("شخص", "person"),
    "legend_org": ("مؤسسة", "organization"),
    "legend_loc": ("مكان", "place"),
    "legend_misc": ("كيان آخر", "other entity"),
    "legend_quote": ("اقتباس", "quote"),
    "legend_deny": ("نفي", "denial"),
    "legend_confirm": ("تأكيد", "confirmation"),
    "legend_time": ("تعبير زمني (مرّر المؤشر لترى قيمته)", "time expression (hover for its value)"),
    "legend_cite": ("مصدر مذكور", "cited source"),
    "legend_speaker": ("المتحدث", "speaker"),
    "removed_blocks": ("ما أزيل من الصفحة ({count})", "Removed from the page ({count})"),
    "removed_kind": ("النوع", "Kind"),
    "removed_rule": ("القاعدة", "Rule"),
    "removed_text": ("النص", "Text"),
    "metadata_evidence": ("أدلة البيانات الوصفية", "Metadata evidence"),
    "field": ("الحقل", "Field"),
    "value": ("القيمة", "Value"),
    "evidence_source": ("المصدر", "Source"),
    "evidence_text": ("النص", "Text"),
    "confidence": ("الثقة", "Confidence"),
    "field_title": ("العنوان", "title"),
    "field_outlet": ("المنفذ", "outlet"),
    "field_published": ("تاريخ النشر", "published"),
    "field_language": ("اللغة", "language"),
    "quotes": ("الاقتباسات", "Quotes"),
    "speaker": ("المتحدث", "Speaker"),
    "unknown_speaker": ("متحدث غير محدد", "unidentified speaker"),
    "via": ("عبر", "via"),
    "duplicates": ("نسخ مطابقة تقريباً", "Near-duplicates"),
    "no_duplicates": ("لا نسخ مطابقة لهذا المقال.", "No near-duplicates of this article."),
    "shared_passages": ("مقاطع مشتركة", "Shared passages"),
    "words_count": ("{count} كلمة", "{count} words"),
    "in_story": ("ضمن القصة", "In the story"),
    "times": ("التعبيرات الزمنية", "Time expressions"),
    "citations": ("المصادر المذكورة", "Cited sources"),
    "paragraph_title": ("العنوان", "title"),
    # entities
    "entity_title": ("كيان", "Entity"),
    "aliases": ("الأسماء الأخرى", "Aliases"),
    "roles": ("الصفات", "Roles"),
    "type": ("النوع", "Type"),
    "documents_naming": ("المقالات التي تذكره", "Documents naming it"),
    "entity_quotes": ("أقواله", "Its quotes"),
    "no_quotes": ("لا اقتباسات.", "No quotes."),
    "mentions": ("{count} ذكر", "{count} mentions"),
    "entity_PER": ("شخص", "person"),
    "entity_ORG": ("مؤسسة", "organization"),
    "entity_LOC": ("مكان", "place"),
    "entity_MISC": ("آخر", "other"),
    # claim
    "claim_title": ("التحقق من ادعاء", "Check a claim"),
    "claim_text": ("الادعاء", "Claim"),
    "as_of": ("حتى تاريخ", "As of"),
    "as_of_hint": ("اعرض الحكم كما كان ممكناً في ذلك اليوم.", "Show the verdict as it could be given that day."),
    "verdict": ("الحكم", "Verdict"),
    "verdict_true": ("صحيح", "True"),
    "verdict_false": ("غير صحيح", "False"),
    "verdict_mixed": ("متضارب", "Mixed"),
    "verdict_unverified": ("غير مُتحقق منه", "Unverified"),
    "evidence_summary": ("{documents} مقالاً من {sources} مصدراً مستقلاً: {agree} تؤيد، {disagree} تنفي،"
                         " {discuss} تناقش.",
                         "{documents} documents from {sources} independent sources: {agree} agree,"
                         " {disagree} disagree, {discuss} discuss."),
    "weights": ("وزن التأييد {support} ووزن النفي {refute}", "support weight {support}, refute weight {refute}"),
    "explanation": ("التفسير (بالإنجليزية)", "Explanation"),
    "stance_agree": ("تؤيد", "Agree"),
    "stance_disagree": ("تنفي", "Disagree"),
    "stance_discuss": ("تناقش", "Discuss"),
    "stance_unrelated": ("غير ذات صلة", "Unrelated"),
    "stance_none": ("بلا موقف", "no stance"),
    "reliability": ("موثوقية المنفذ", "Outlet reliability"),
    "rationale": ("الجمل المرجِّحة", "Rationale sentences"),
    "score": ("الدرجة", "score"),
    "no_documents": ("لا مقالات في هذه الفئة.", "No documents in this group."),
    "download_claimreview": ("تنزيل ClaimReview (JSON-LD)", "Download ClaimReview (JSON-LD)"),
    "download_report": ("تقرير HTML", "HTML report"),
    "search_with_claim": ("ابحث مع هذا الادعاء", "Search with this claim"),
    "claim_hint": ("اكتب الادعاء كما ورد، ثم اضغط «تحقق».", "Write the claim as it was made, then press Check."),
    "retrieval_note": ("طريقة الاسترجاع", "Retrieval"),
    # ingest
    "ingest_title": ("إضافة مواد", "Add material"),
    "ingest_intro": ("أضف صفحات محفوظة أو روابط أو نصوصاً؛ تُحلَّل وتُخزَّن في مساحة العمل.",
                     "Add saved pages, links or text; they are analysed and stored in the workspace."),
    "drop_files": ("أفلت الملفات هنا أو اخترها", "Drop files here or choose them"),
    "choose_files": ("اختر ملفات", "Choose files"),
    "upload_files": ("أرسل الملفات", "Upload files"),
    "paste_urls": ("روابط (رابط في كل سطر)", "Links (one per line)"),
    "send_urls": ("اجلب الروابط", "Fetch the links"),
    "paste_text": ("نص مقال", "Article text"),
    "text_title": ("العنوان (اختياري)", "Title (optional)"),
    "text_outlet": ("المنفذ (اختياري)", "Outlet (optional)"),
    "send_text": ("أضف النص", "Add the text"),
    "token": ("رمز الكتابة (إن طُلب)", "Write token (if required)"),
    "token_hint": ("يُحفظ في هذا المتصفح فقط.", "Kept in this browser only."),
    "progress": ("التقدم", "Progress"),
    "job_queued": ("في الانتظار", "queued"),
    "job_running": ("قيد العمل", "running"),
    "job_done": ("اكتمل", "done"),
    "job_failed": ("فشل", "failed"),
    "job_stored": ("خُزّن", "stored"),
    "job_duplicates": ("مكرر", "duplicates"),
    "job_failed_items": ("أخفق", "failed"),
    "job_changed": ("تغيّر", "changed"),
    "reprocess_title": ("إعادة تحليل المخزَّن", "Analyse stored pages again"),
    "reprocess_intro": ("تُنظَّف الصفحات المخزنة وتُحلَّل من جديد من نصها الأصلي، بعد تحديث الأداة أو حين يتعلم"
                        " النظام حشو موقع ما؛ ولا يُستبدل إلا ما تغيّر.",
                        "Stored pages are cleaned and analysed again from their raw input, after an upgrade or"
                        " once a site's furniture is learnt; only what changed is replaced."),
    "sites_grown": ("صارت هذه المواقع تكرر أسطراً ما زالت في صفحاتها المخزنة سابقاً:",
                    "These sites now repeat lines that their pages stored earlier still hold:"),
    "reprocess_sites": ("أعد تنظيف صفحات هذه المواقع", "Clean these sites' pages again"),
    "reprocess_all": ("أعد تحليل كل الصفحات", "Analyse every page again"),
    "reprocess_unfinished": ("توقفت إعادة تحليل سابقة قبل أن تكتمل؛ آخر ما سُجّل منها:",
                             "An earlier run stopped before it finished; last recorded:"),
    "reprocess_resume": ("أكمل من حيث توقفت", "Go on from where it stopped"),
    "job_failures": ("ما تعذّر إدخاله", "What could not be added"),
    "request_failed": ("تعذّر الطلب", "The request failed"),
    "nothing_to_send": ("لا شيء لإرساله.", "Nothing to send."),
    "needs_script": ("هذه الصفحة تحتاج JavaScript لإرسال المواد.", "This page needs JavaScript to send material."),
    # errors
    "error_title": ("خطأ {status}", "Error {status}"),
    "error_404": ("لم نجد هذه الصفحة أو هذا العنصر.", "This page or item was not found."),
    "error_other": ("حدث خطأ أثناء معالجة الطلب.", "Something went wrong while handling the request."),
    "back_home": ("العودة إلى الرئيسية", "Back to the home page"),
    # cue classes and removed kinds
    "cue_assert": ("تصريح", "assert"),
    "cue_deny": ("نفي", "deny"),
    "cue_confirm": ("تأكيد", "confirm"),
    "cue_report": ("نقل", "report"),
    "cue_refuse_comment": ("رفض التعليق", "refused comment"),
    "cue_warn": ("تحذير", "warn"),
    "removed_menu": ("قائمة", "menu"),
    "removed_ticker": ("شريط أخبار", "ticker"),
    "removed_masthead": ("ترويسة", "masthead"),
    "removed_related": ("مواد ذات صلة", "related"),
    "removed_caption": ("تعليق صورة", "caption"),
    "removed_credit": ("نسبة", "credit"),
    "removed_comments": ("تعليقات", "comments"),
    "removed_repeated_title": ("عنوان مكرر", "repeated title"),
    "removed_date_line": ("سطر تاريخ", "date line"),
    "removed_other": ("أخرى", "other"),
}


def translate(key: str, lang: str, **fields: object) -> str:
    text = STRINGS[key][0 if lang == "ar" else 1]
    return text.format(**fields) if fields else text


def translate_or(key: str, lang: str, fallback: str) -> str:
    """The translation of a key built from data (a cue class, a removed kind), else the raw value."""
    return translate(key, lang) if key in STRINGS else fallback


def translator(lang: str) -> Callable[..., str]:
    def t(key: str, **fields: object) -> str:
        return translate(key, lang, **fields)

    return t


def direction(lang: str) -> str:
    return "rtl" if lang == "ar" else "ltr"


def choose_language(asked: str | None, remembered: str | None) -> str:
    for value in (asked, remembered):
        if value in LANGUAGES:
            return value
    return DEFAULT_LANGUAGE
