from django.apps import AppConfig


class ReliabilityConfig(AppConfig):
    name = "reliability"
    verbose_name = "Reliability"

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from reliability import autonomy

        post_save.connect(
            autonomy.record_verdict_after_commit,
            sender="review.Decision",
            dispatch_uid="reliability.record_human_verdict",
        )
