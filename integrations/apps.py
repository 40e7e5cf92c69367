from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = "Integrations"

    def ready(self) -> None:
        from briefs import signals as briefs_signals
        from integrations import receivers
        from reliability import signals as reliability_signals
        from review import signals as review_signals

        for signal, receiver in (
            (briefs_signals.take_ready, receivers.take_ready),
            (briefs_signals.brief_completed, receivers.brief_completed),
            (review_signals.take_decided, receivers.take_decided),
            (review_signals.client_verdict_given, receivers.client_verdict_given),
            (reliability_signals.reliability_event, receivers.reliability_event),
        ):
            signal.connect(receiver, dispatch_uid=f"integrations.{receiver.__name__}")
