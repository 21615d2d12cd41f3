"""The suggested-coding queue: open `suggested_coding` review items seen as their own admin screen,
worked from the keyboard (j/k to move, a to accept, c to correct)."""

from .models import ReviewItem


class SuggestedCoding(ReviewItem):
    class Meta:
        proxy = True
        verbose_name = "suggested coding"
        verbose_name_plural = "suggested coding queue"
