"""What one line of a flattened page looks like: its words, its function-word density, and the
boilerplate patterns it matches. Site-independent: every rule here describes a kind of page furniture
that Arabic news sites share, never one site's markup."""

from __future__ import annotations

import re
from dataclasses import dataclass

from tabayyun.arabic import normalize_for_match
from tabayyun.clean.dates import is_date_only

# Function words of Modern Standard Arabic news prose (normalized spelling: alef and ya unified, ta
# marbuta as ha). Body paragraphs are dense in them; menus, headlines and teaser lists are not.
FUNCTION_WORDS = set(
    """
    في من على الي عن مع ان انه انها الذي التي الذين اللذين اللتين هذا هذه ذلك تلك هولاء اولئك
    هو هي هم هن انا نحن انت كان كانت كانوا يكون تكون قد لقد لم لن لا ما ماذا لماذا كيف اين متي
    بعد قبل حتي منذ خلال بين عند عندما حيث كما كل بعض اي غير سوي او ام ثم بل لكن لكنه لكن
    اذا اذ لو ولو وقد وقال وقالت واضاف واضافت واكد واكدت واشار واشارت وتابع وتابعت كذلك ايضا
    اكثر اقل جدا فقط الا وهو وهي وهم وكان وكانت وفي ومن وعلي والي وان وانه وانها ولا ولم ولن
    فان فقد فيما فيه فيها منه منها عليه عليها اليه اليها عنه عنها له لها لهم به بها بهم
    الذي والتي والذي يتم تم عام حول ضد دون امام وراء فوق تحت لدي لدى ليس ليست مازال زال
    وذلك بان بانه بانها لان لانه ولكن ولكنه اما واما اذن حين حينما بينما وبين وبعد وقبل وحتي
    قال قالت اكد اكدت اشار اشارت اوضح اوضحت اضاف اضافت ذكر ذكرت اعلن اعلنت اعتبر وسط نحو
    سيتم سوف هناك هنا الان اليوم امس يوم لدى مثل وفق وفقا بحسب حسب
    the of and to in that is was for on with as by from at it this be are were has have said
    le la les de des du et en un une est que qui pour dans sur par avec
    """.split()
)

_SENTENCE_END = re.compile(r"[.!?؟…:][\"”»'’)\]]*\s*$")
_TICKER = re.compile(r"^\s*(?:[•·\-–]\s*)?\d{1,2}:\d{2}(?:\s*(?:[AaPp][Mm]|ص|م))?\s*[^\d\s:]")
_BULLET = re.compile(r"^\s*[•·▪►◄■□●○◆◇*+>]\s*")
_URL = re.compile(r"https?://|www\.|\.(?:com|net|org)\b", re.I)
_WORD = re.compile(r"[^\W_]+(?:[-'.][^\W_]+)*", re.UNICODE)

# Headings that open a block of links to other articles, or a comments section.
_RELATED_HEADINGS = [
    "اخبار ذات صله", "مواضيع ذات صله", "مقالات ذات صله", "اخبار متعلقه", "الاخبار المتعلقه",
    "مواضيع متعلقه", "ذات صله", "اقرا ايضا", "اقرا المزيد", "اقرا كذلك", "اقرا اكثر", "شاهد ايضا",
    "طالع ايضا", "اقرا/ي ايضا", "قد يهمك", "قد يعجبك", "قد يهمك ايضا", "ننصحك بقراءه", "المزيد من الاخبار",
    "اخر الاخبار", "احدث الاخبار", "الاكثر قراءه", "الاكثر مشاهده", "الاكثر تداولا", "الاكثر تعليقا",
    "اخبار اخري", "مواضيع اخري", "المزيد", "المزيد من", "اخبار مشابهه", "تابع ايضا", "اخترنا لك",
    "related", "related articles", "related news", "read more", "read also", "most read", "latest news",
    "stories", "more stories", "you may also like",
]
_COMMENT_HEADINGS = [
    "التعليقات", "تعليقات", "اضف تعليق", "اضف تعليقا", "اضف تعليقك", "اترك تعليقا", "اترك تعليق",
    "اكتب تعليقك", "اكتب تعليق", "تعليقات القراء", "تعليقات الزوار", "اراء القراء", "شارك برايك",
    "عدد التعليقات", "التعليقات مغلقه", "comments", "leave a comment", "add comment", "add a comment",
]
_MASTHEAD_ROLES = [
    "رئيس التحرير", "رئيسه التحرير", "مدير التحرير", "نائب رئيس التحرير", "الرئيس التنفيذي",
    "رئيس مجلس الاداره", "المدير العام", "مدير عام", "المدير التنفيذي", "سكرتير التحرير",
    "رئيس القسم", "المشرف العام", "مدير الموقع", "editor in chief", "editor-in-chief", "ceo",
]
_MENU_WORDS = set(
    """
    menu القائمه الرئيسيه الصفحه الرئيسيه اخبار سياسه اقتصاد رياضه ثقافه فن فنون منوعات تكنولوجيا
    صحه مقالات اراء راي تقارير تحقيقات حوارات فيديو فيديوهات صور مالتيميديا انفوجرافيك العالم
    عربي دولي محليات محلي مباشر بث اتصل بنا من نحن عن الموقع سياسه الخصوصيه شروط الاستخدام اعلن
    معنا الارشيف البحث بحث دخول تسجيل خروج اشترك النشره home news sport sports video videos about
    contact search login english français عاجل مجتمع حوادث علوم بيئه سيارات طقس ملفات خاص
    كاريكاتير برامج بودكاست podcast stories تابعونا تابعنا اقسام مهمه حصاد عربي دولي
    """.split()
)
_SHARE_WORDS = set(
    """
    شارك شاركها مشاركه انشر طباعه اطبع حجم الخط تكبير تصغير ارسل لصديق حفظ نسخ الرابط
    facebook twitter whatsapp telegram linkedin email print share tweet pinterest instagram youtube
    فيسبوك تويتر واتساب تلغرام تيليجرام يوتيوب انستغرام انستجرام لينكدان
    """.split()
)
_CHROME_WORDS = set("logo top الى الاعلى اعلى الصفحه advertisement اعلان إعلان skip".split())
_FOOTER = re.compile(
    r"جميع الحقوق محفوظه|حقوق النشر|©|copyright|all rights reserved|سياسه الخصوصيه|privacy policy"
    r"|ملفات تعريف الارتباط|cookies?|اشترك في النشره|النشره البريديه|newsletter|تحميل التطبيق",
    re.I,
)
_CREDIT = re.compile(
    r"^(?:المصدر|المصادر|مصدر الخبر|المصدر الاصلي|source|sources|المرجع|نقلا عن|عن موقع)\s*[:：\-]", re.I
)
_EDITOR_CREDIT = re.compile(r"^\(?\s*(?:اعداد|تحرير|ترجمه|تغطيه صحفيه)\s.{0,80}(?:تحرير|للنشره)", re.I)
# The editors' initials and the agencies, "م . أ . م / أ . ح ( أ ف ب )": some sites (DW) put them right after
# the last paragraph, glued to what follows (a gallery), so this is read in context (`starts_with_signature`).
_SIGNATURE = re.compile(r"^\s*(?:[^\W\d_] ?\. ?){1,4}[^\W\d_]?\s*/\s*(?:[^\W\d_] ?\. ?){1,4}[^\W\d_]?\s*\(")
_CAPTION = re.compile(
    r"^\(?(?:صوره|بالصور|فيديو|photo)\)?$|^(?:صوره|الصوره|تصوير|صور|photo|image)\s*[:\-(]|صوره ارشيفيه|\(ارشيف(?:يه)?\)|\(صوره\s*[:\-]"
    r"|/\s*(?:[A-Z][A-Za-z]+(?:\s[A-Z][A-Za-z]+)?|afp|ap|getty images|reuters|epa)\s*$",
    re.I,
)
_READ_ALSO = re.compile(r"^(?:اقرا|اقرا ايضا|اقرا المزيد|شاهد ايضا|طالع ايضا|اقرا كذلك|read also|see also)\s*[:：]")
_BYLINE = re.compile(r"^(?:كتب|كتبت|بقلم|اعداد|تقرير|by)\s*[:\-]?\s*\S+(?:\s+\S+){0,4}$", re.I)


# Words of page furniture that show up inside long run-together lines at the foot of a page.
_FURNITURE_WORDS = """
    تعليق تعليقك التعليقات التعليق تعليقات تابعونا تابعنا اشترك اشتراك للاشتراك النشره فيسبوك تويتر
    واتساب يوتيوب انستغرام facebook twitter whatsapp youtube instagram شارك مشاركه ارسال بريدك
""".split()
_FURNITURE_PHRASES = [
    "روابط ذات صله", "كلمات داله", "كلمات دلاليه", "لا تعبر بالضروره", "تعبر عن اراء كاتبيها",
    "جميع الحقوق محفوظه", "حقوق النشر", "سياسه الخصوصيه", "اتصل بنا", "من نحن", "اخر تعليق",
    "الاكثر قراءه", "المصادر الاكثر", "تم ارسال تعليقك", "اقرا ايضا", "ابتداء من تاريخ",
]


# Phrases of forum and comment-board software: a page that opens with them is user posts, not news.
_FORUM_STRONG = ["عرض المشاركات", "مشاركات العضو", "المنتدى", "منتدى", "منتديات", "زائر", "رد مع اقتباس",
                 "show posts", "forum"]
_FORUM_WEAK = ["المشاركات", "اقتباس", "تسجيل الدخول", "التسجيل", "عضو", "الاعضاء", "posts", "members"]


def is_forum_page(keys: list[str]) -> bool:
    """At least one phrase only forums use, and a second forum phrase, at the top of the page."""
    words = set().union(*(_WORD.findall(key) for key in keys)) if keys else set()
    text = " ".join(keys)

    def found(cues: set[str]) -> set[str]:
        return {cue for cue in cues if (cue in words if " " not in cue else cue in text)}

    strong = found(FORUM_STRONG)
    return bool(strong) and len(strong | found(FORUM_WEAK)) >= 2


def _normalized(words):
    return {normalize_for_match(word) for word in words}


FUNCTION_WORDS = _normalized(FUNCTION_WORDS)
_MENU_WORDS = _normalized(_MENU_WORDS)
_SHARE_WORDS = _normalized(_SHARE_WORDS)
_CHROME_WORDS = _normalized(_CHROME_WORDS)
_RELATED_HEADINGS = _normalized(_RELATED_HEADINGS)
_COMMENT_HEADINGS = _normalized(_COMMENT_HEADINGS)
_MASTHEAD_ROLES = _normalized(_MASTHEAD_ROLES)
FORUM_STRONG = _normalized(_FORUM_STRONG)
FURNITURE_WORDS = _normalized(_FURNITURE_WORDS)
FURNITURE_PHRASES = _normalized(_FURNITURE_PHRASES)
FORUM_WEAK = _normalized(_FORUM_WEAK)


_TRUNCATION = re.compile(r"(?:\.\s*){3}|…")
# Markers that end one article and begin the next on pages that list several: a "read also" label, a
# tags list, a source credit, written inside a line of running text.
_ITEM_BOUNDARY = re.compile(r"(?:^|\s)(?:اقرا ايضا|اقرا المزيد|كلمات دلاليه|الكلمات الدلاليه|الوسوم|tags)\s*:")


def has_truncation(key: str) -> bool:
    """A teaser cut short and the next one starting on the same line: "... قال الوزير ... أعلنت الوزارة".

    The word after the dots starts a new lead (not a و/ف continuation) and runs on for a while."""
    for match in _TRUNCATION.finditer(key):
        rest = _WORD.findall(key[match.end():])
        if len(rest) >= 5 and rest[0][0] not in "وف":
            return True
    return False


def furniture_score(key: str) -> int:
    """How many page-furniture words and phrases a line holds (phrases count double)."""
    words = set(_WORD.findall(key))
    return len(words & FURNITURE_WORDS) + 2 * sum(1 for phrase in FURNITURE_PHRASES if phrase in key)


def has_item_boundary(key: str) -> bool:
    return bool(_ITEM_BOUNDARY.search(key))


@dataclass
class Line:
    """One non-empty line of a flattened page with the features the segmenter decides on."""

    index: int
    text: str
    key: str
    words: int
    density: float
    ends_sentence: bool
    pattern: str | None
    pattern_rule: str


def read_line(index: int, raw: str) -> Line | None:
    text = raw.strip(" \t\u00a0\u200f\u200e\ufeff")
    if not text:
        return None
    key = normalize_for_match(text)
    tokens = _WORD.findall(key)
    words = len(tokens)
    function_words = sum(1 for t in tokens if t in FUNCTION_WORDS)
    density = function_words / words if words else 0.0
    pattern, rule = _boilerplate_pattern(text, key, tokens)
    return Line(
        index=index,
        text=text,
        key=key,
        words=words,
        density=density,
        ends_sentence=bool(_SENTENCE_END.search(text)),
        pattern=pattern,
        pattern_rule=rule,
    )


def starts_with_signature(text: str) -> bool:
    """The line opens with the editors' initials and the agencies ("م . أ . م / أ . ح ( أ ف ب )")."""
    return bool(_SIGNATURE.match(text))


def heading_kind(key: str) -> str | None:
    """`related` or `comments` when a short line is the heading of such a block."""
    stripped = _BULLET.sub("", key).strip(" :.-–|>«»\"'()0123456789")
    if stripped in _COMMENT_HEADINGS or re.fullmatch(r"(?:\d+\s*)?تعليق(?:ات)?(?:\s*\(\d+\))?", stripped):
        return "comments"
    if stripped in _RELATED_HEADINGS:
        return "related"
    return None


def _boilerplate_pattern(text: str, key: str, tokens: list[str]) -> tuple[str | None, str]:
    """Context-free patterns: (kind, rule name) or (None, "")."""
    words = len(tokens)
    if _TICKER.match(key):
        return "ticker", "time-prefixed headline"
    heading = heading_kind(key) if words <= 6 else None
    if heading:
        return heading, f"{heading} heading"
    if words <= 24 and is_date_only(key):
        return "date_line", "date or time alone"
    if words <= 20 and _READ_ALSO.match(key):
        return "related", "read-also link"
    if words <= 30 and _CREDIT.match(key):
        return "credit", "source credit line"
    if words <= 20 and _EDITOR_CREDIT.match(key):
        return "credit", "editor credit line"
    if words <= 6 and _stripped_key(key) in _MASTHEAD_ROLES:
        return "masthead", "masthead role"
    if words <= 25 and _CAPTION.search(key):
        return "caption", "image caption"
    if words <= 25 and _FOOTER.search(key):
        return "other", "footer or subscription"
    if words and words <= 12 and sum(1 for t in tokens if t in _SHARE_WORDS) >= max(1, words // 2):
        return "other", "share bar"
    if words <= 2 and all(t in _CHROME_WORDS for t in tokens):
        return "other", "page chrome"
    if words <= 4 and all(t in _MENU_WORDS for t in tokens):
        return "menu", "menu words"
    if words <= 6 and _BYLINE.match(key):
        return "other", "byline"
    if words <= 6 and _URL.search(key):
        return "other", "link or address"
    return None, ""


def _stripped_key(key: str) -> str:
    return _BULLET.sub("", key).strip(" :.-–|")


def is_bullet(text: str) -> bool:
    return bool(_BULLET.match(text))
