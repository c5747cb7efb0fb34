"""Understanding one article: entities, time expressions, quotes and the sources they cite."""
