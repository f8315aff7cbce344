"""The settings of the OpenAI-compatible prover: the ``prover:`` block of a run config."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Api = Literal["chat", "completions"]
# The sampling parameters both APIs take; each is sent only when set (else the endpoint's own default holds).
SAMPLING_KEYS = ("n", "seed", "temperature", "top_p", "max_tokens", "stop")


class Prices(BaseModel):
    """Prices per million tokens, in the currency of the user's choice."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    input_per_mtok: float = Field(ge=0, description="the price of a million prompt tokens")
    output_per_mtok: float = Field(ge=0, description="the price of a million completion tokens")
    reasoning_per_mtok: float | None = Field(
        default=None,
        ge=0,
        description="the price of a million reasoning tokens, where the API counts them apart (default: the "
        "output price)",
    )

    def cost(self, tokens_in: int, tokens_out: int, tokens_reasoning: int) -> float:
        """What a request cost; ``tokens_out`` counts every completion token, ``tokens_reasoning`` of them too."""
        reasoning = min(tokens_reasoning, tokens_out)
        per_reasoning = self.output_per_mtok if self.reasoning_per_mtok is None else self.reasoning_per_mtok
        total = tokens_in * self.input_per_mtok + (tokens_out - reasoning) * self.output_per_mtok
        return round((total + reasoning * per_reasoning) / 1e6, 8)


class OpenAISettings(BaseModel):
    """Settings of the OpenAI-compatible prover (the ``prover:`` block of a run config)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    model: str = Field(min_length=1, description="the model, as the endpoint names it")
    base_url: str | None = Field(default=None, description="the endpoint (default: OpenAI's API)")
    api_key_env: str | None = Field(
        default="OPENAI_API_KEY", description="the environment variable holding the API key; null: no key"
    )
    api: Api | None = Field(
        default=None,
        description="chat (/v1/chat/completions: messages) or completions (/v1/completions: one raw prompt, as "
        "vLLM and SGLang serve base prover models); default: the prompt preset's API, else chat",
    )
    prompt: str | None = Field(
        default=None,
        description="a bundled prompt preset by name (`provebench provers presets` lists them); "
        "default: the generic templates, or prompt_dir",
    )
    temperature: float | None = Field(default=None, ge=0, le=2, description="sampling temperature (default: the API's)")
    top_p: float | None = Field(default=None, gt=0, le=1, description="nucleus sampling mass (default: the API's)")
    max_tokens: int | None = Field(
        default=None,
        ge=1,
        description="most tokens of a reply, a reasoning model's thinking included (default: the API's)",
    )
    n: int | None = Field(
        default=None,
        ge=1,
        le=128,
        description="choices per request: samples 0..n-1 of a problem share one request, each taking one choice "
        "(repair rounds ask for one); default: not sent, one request per sample",
    )
    seed: int | None = Field(
        default=None,
        ge=-(2**63),
        le=2**63 - 1,
        description="sampling seed of a problem's first request; its k-th (samples k*n to k*n+n-1, or sample k "
        "without n) sends seed + k, so samples differ and a rerun repeats them (default: not sent)",
    )
    stop: list[str] | None = Field(
        default=None,
        description="strings that end a reply (a string or a list; default: the preset's, else not sent)",
    )
    request_timeout_s: float = Field(
        default=300.0, gt=0, description="seconds one request may take, a streamed one to its last chunk"
    )
    stream: bool = Field(
        default=False,
        description="receive replies as they are generated (server-sent events), so that a long generation "
        "keeps its connection busy and a proxy's idle limit does not cut it; the reply is the same",
    )
    max_retries: int = Field(
        default=6, ge=0, le=50, description="retries of a request after a transient fault (429, 5xx, lost connection)"
    )
    backoff_initial_s: float = Field(default=1.0, gt=0, description="first wait before a retry (then doubling)")
    backoff_max_s: float = Field(default=60.0, gt=0, description="longest wait before a retry")
    retry_after_max_s: float = Field(default=600.0, gt=0, description="longest wait a server's Retry-After gets")
    prices: Prices | None = Field(default=None, description="prices per million tokens, for the run's cost")
    prompt_dir: Path | None = Field(
        default=None, description="prompt templates, a folder per proof system (default: the bundled ones)"
    )
    extra_body: dict[str, Any] = Field(
        default_factory=dict, description="more fields for every request's JSON body (the endpoint's own options)"
    )

    @field_validator("stop", mode="before")
    @classmethod
    def _one_stop_is_a_list(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("stop")
    @classmethod
    def _stops_are_text(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and any(not s for s in value):
            raise ValueError("a stop string cannot be empty")
        return value

    @model_validator(mode="after")
    def _one_prompt_source(self) -> OpenAISettings:
        if self.prompt is not None and self.prompt_dir is not None:
            raise ValueError("set prompt (a bundled preset) or prompt_dir (your own templates), not both")
        # extra_body is merged over the request body: it must not replace what provebench sends.
        ours = {"model", "messages", "prompt", *(k for k in SAMPLING_KEYS if getattr(self, k) is not None)}
        clash = sorted(set(self.extra_body) & ours)
        if clash:
            raise ValueError(f"extra_body cannot set {', '.join(clash)}: the request sets it already")
        return self
