"""What a step works with besides its row: the models it calls."""

from __future__ import annotations

from dataclasses import dataclass

from studio.ai import providers
from studio.ai.protocols import Critic, Generator, Planner


@dataclass
class Providers:
    """The models a step uses; None means "the configured one", resolved when first needed."""

    planner: Planner | None = None
    generator: Generator | None = None
    critic: Critic | None = None

    def get_planner(self) -> Planner:
        self.planner = self.planner or providers.get_planner()
        return self.planner

    def get_generator(self) -> Generator:
        self.generator = self.generator or providers.get_generator()
        return self.generator

    def get_critic(self) -> Critic:
        self.critic = self.critic or providers.get_critic()
        return self.critic
