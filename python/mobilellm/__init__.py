"""mobilellm: the mobilellm.cpp inference engine from Python.

    import mobilellm
    with mobilellm.Model("SmolLM2-135M-Instruct.Q4_1.gguf") as llm:
        out = llm.create_chat_completion([{"role": "user", "content": "Hi!"}], max_tokens=32)
        print(out["choices"][0]["message"]["content"])

Results are the dicts the OpenAI API returns (``text_completion``,
``chat.completion`` and their stream chunks), shaped by the same code as
``mobilellm serve``'s answers. docs/PYTHON.md has the full reference.
"""
from __future__ import annotations

import json
import os
import queue
import random
import threading
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional, Sequence, Union

import numpy as np

from . import _core
from ._core import Error

__version__: str = _core.__version__
__all__ = ["Model", "Perplexity", "Error", "__version__"]

_END = object()  # ends a stream's queue


@dataclass(frozen=True)
class Perplexity:
    """What ``Model.perplexity`` measured (``mobilellm perplexity``'s numbers).

    Attributes:
        ppl: exp(mean NLL) over every scored token: the CLI's
            ``Final estimate: PPL = …``.
        ppl_error: its uncertainty, PPL · σ(NLL) / √(n − 1) (llama.cpp's
            formula): the ``+/- …``.
        running_ppl: the estimate after each chunk: the CLI's ``[i]…,`` values.
        chunk_ppl: each chunk's own perplexity, exp(mean NLL of its tokens).
        nll: float64 array ``[chunks, scored tokens per chunk]``: the negative
            log-likelihood (natural log) of every scored token, in text order.
        n_ctx: tokens per chunk.
        n_tokens: tokens of the whole text.
        seconds: the time the scoring took (tokenizing excluded).
    """

    ppl: float
    ppl_error: float
    running_ppl: List[float]
    chunk_ppl: List[float]
    nll: np.ndarray
    n_ctx: int
    n_tokens: int
    seconds: float


class Model:
    """A loaded model: weights, tokenizer and one KV cache.

    Args:
        path: what ``mobilellm -m`` takes: a checkpoint directory, a GGUF file,
            a model file written by ``mobilellm convert``, or a Hub model
            ``ORG/NAME[:SELECTOR]`` already in the Hugging Face cache
            (``mobilellm pull`` puts it there; see docs/HUB.md).
        n_ctx: context length in tokens (prompt and answer together); 0 is the
            model's maximum. The KV cache grows with use up to it.
        n_batch: prompt tokens one forward pass reads at most (larger reads
            prompts faster, up to a point); also perplexity's largest batch.
        n_threads: threads for the forward pass; 0 uses every core.
        seed: the sampling seed of requests that give none; None draws a new
            seed for each request.
        tokenizer: a tokenizer file or directory; None uses the model's own.
        verify: check every tensor checksum of a model file while loading.
        model_name: the ``"model"`` field of the results; None uses the
            checkpoint's name.
        draft_max: speculative decoding by prompt lookup (``mobilellm run
            --draft prompt --draft-max K``): up to this many proposed tokens
            verified per forward pass; 0 is off. The same answers (greedy: the
            same tokens), faster when they copy the prompt. A request body's
            own ``"draft_max"`` overrides it.
        draft_model: with ``draft_max``, a smaller model that shares the
            tokenizer proposes the tokens instead (``--draft PATH``): what
            ``path`` takes; None: prompt lookup.

    Raises:
        mobilellm.Error: the model or its tokenizer cannot be loaded (the
            message names the file, as the CLI's does).
        ValueError: a bad argument.

    Requests from several threads take turns (one at a time per Model). The
    GIL is released while the engine computes. Ctrl-C stops a generation
    (KeyboardInterrupt). ``close()``, or leaving a ``with`` block, frees the
    memory; a closed model raises ValueError.
    """

    def __init__(
        self,
        path: Union[str, os.PathLike],
        n_ctx: int = 0,
        n_threads: int = 0,
        seed: Optional[int] = None,
        *,
        n_batch: int = 256,
        tokenizer: Optional[Union[str, os.PathLike]] = None,
        verify: bool = False,
        model_name: Optional[str] = None,
        draft_max: int = 0,
        draft_model: Optional[Union[str, os.PathLike]] = None,
    ) -> None:
        _check_int("n_ctx", n_ctx, 0)
        _check_int("draft_max", draft_max, 0, 64)
        _check_int("n_threads", n_threads, 0, 256)
        _check_int("n_batch", n_batch, 1, 1 << 20)
        if seed is not None:
            _check_int("seed", seed, -(2**63), 2**64 - 1)
        self._seed = seed
        self._core = _core.Model(
            _core.resolve_model(os.fspath(path)),
            os.fspath(tokenizer) if tokenizer is not None else "",
            n_ctx,
            n_batch,
            n_threads,
            verify,
            model_name or "",
            draft_max,
            _core.resolve_model(os.fspath(draft_model)) if draft_model is not None else "",
        )

    # ---- lifetime

    def close(self) -> None:
        """Frees the weights and the KV cache (waits for a request in flight). Idempotent."""
        self._core.close()

    @property
    def closed(self) -> bool:
        """Whether close() was called."""
        return self._core.closed

    def __enter__(self) -> "Model":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        core = getattr(self, "_core", None)
        if core is not None:
            core.close()

    # ---- facts

    @property
    def n_ctx(self) -> int:
        """The context length of this model's KV cache, in tokens."""
        return self._core.n_ctx

    @property
    def n_batch(self) -> int:
        """The most prompt tokens one forward pass reads."""
        return self._core.n_batch

    @property
    def n_ctx_train(self) -> int:
        """The model's maximum context (max_position_embeddings)."""
        return self._core.n_ctx_train

    @property
    def n_vocab(self) -> int:
        """The number of logits per position."""
        return self._core.n_vocab

    @property
    def token_bos(self) -> int:
        """The begin-of-text id (-1 when the tokenizer has none)."""
        return self._core.token_bos

    @property
    def token_eos(self) -> int:
        """The end-of-text id (-1 when the tokenizer has none)."""
        return self._core.token_eos

    @property
    def name(self) -> str:
        """The checkpoint's name (the results' default ``"model"``)."""
        return self._core.name

    # ---- tokens and logits

    def tokenize(self, text: Union[str, bytes], add_bos: bool = False, special: bool = False) -> List[int]:
        """The token ids of ``text``, as ``mobilellm tokenize`` prints them.

        Args:
            text: str, or UTF-8 bytes.
            add_bos: prepend the begin-of-text token (``--bos``).
            special: read special-token text such as ``<|eot_id|>`` as the
                special token (``--special``); otherwise it is plain text.

        Raises:
            ValueError: ``text`` is neither str nor bytes, or is not valid UTF-8.
        """
        data = _text_bytes(text)
        try:
            return self._core.tokenize(data, bool(add_bos), bool(special))
        except Error as e:
            raise ValueError(str(e)) from None

    def detokenize(self, ids: Sequence[int], errors: str = "replace") -> str:
        """The text of ``ids``: the bytes ``mobilellm detokenize`` writes, decoded
        as UTF-8 (``errors`` as for ``bytes.decode``: bytes of a character cut
        between tokens become U+FFFD by default).

        Raises:
            ValueError: an id outside the vocabulary.
        """
        try:
            data = self._core.detokenize(_ids("ids", ids))
        except Error as e:
            raise ValueError(str(e)) from None
        return data.decode("utf-8", errors)

    def logits(self, ids: Sequence[int]) -> np.ndarray:
        """The logits of every position of ``ids``, run from an empty cache:
        a float32 array of shape ``[len(ids), n_vocab]``, the numbers
        ``mobilellm logits`` writes.

        Raises:
            ValueError: empty, longer than n_ctx, or an id outside the vocabulary.
        """
        try:
            return self._interruptible(lambda cancel: self._core.logits(_ids("ids", ids)))
        except Error as e:
            raise ValueError(str(e)) from None

    # ---- evaluation

    def perplexity(
        self,
        text: Union[str, bytes],
        n_ctx: int = 512,
        n_batch: Optional[int] = None,
        n_chunks: int = -1,
    ) -> Perplexity:
        """The perplexity of the model on ``text``, computed as ``mobilellm
        perplexity`` (and llama.cpp's ``llama-perplexity``) computes it: the
        text is tokenized once (BOS first when the model adds one; invalid
        UTF-8 bytes become U+FFFD), cut into non-overlapping chunks of
        ``n_ctx`` tokens, each run from an empty KV cache, and only the second
        half of each chunk is scored. docs/PERPLEXITY.md has the details.

        Args:
            text: str, or bytes (as read from a file).
            n_ctx: tokens per chunk (``--ctx``), at least 4 and at most
                n_ctx_train; independent of the Model's own n_ctx.
            n_batch: tokens per forward pass (``--batch``), at most the
                Model's n_batch; None: the Model's n_batch.
            n_chunks: chunks to score (``--chunks``); -1: all the text holds.

        Returns:
            a Perplexity: ``ppl`` and ``ppl_error`` are the CLI's final
            estimate, ``running_ppl`` its per-chunk values.

        Raises:
            ValueError: a bad argument, or a text shorter than two chunks
                (``the text has N tokens; perplexity with a context of C needs
                at least 2C``).
            KeyboardInterrupt: Ctrl-C; the scoring stops within a batch.
        """
        data = _text_bytes(text)
        _check_int("n_ctx", n_ctx, 4, self.n_ctx_train)
        batch = self.n_batch
        if n_batch is not None:
            _check_int("n_batch", n_batch, 1, batch)
            batch = n_batch
        _check_int("n_chunks", n_chunks, -1)
        if n_chunks == 0:
            raise ValueError("n_chunks must be -1 (all the text holds) or at least 1, not 0")
        out = self._interruptible(lambda cancel: self._core.perplexity(data, n_ctx, n_chunks, batch, cancel))
        nll = out["nll"]
        return Perplexity(
            ppl=out["ppl"],
            ppl_error=out["ppl_error"],
            running_ppl=list(out["running_ppl"]),
            chunk_ppl=[float(v) for v in np.exp(nll.mean(axis=1))],
            nll=nll,
            n_ctx=out["n_ctx"],
            n_tokens=out["n_tokens"],
            seconds=out["seconds"],
        )

    # ---- generation

    def create_completion(
        self,
        prompt: Union[str, Sequence[int]],
        max_tokens: Optional[int] = 16,
        temperature: Optional[float] = None,
        top_p: Optional[float] = None,
        top_k: Optional[int] = None,
        min_p: Optional[float] = None,
        repeat_penalty: Optional[float] = None,
        stop: Optional[Union[str, List[str]]] = None,
        seed: Optional[int] = None,
        logprobs: Optional[int] = None,
        echo: bool = False,
        stream: bool = False,
        stream_options: Optional[Mapping[str, Any]] = None,
    ) -> Union[Dict[str, Any], Iterator[Dict[str, Any]]]:
        """Continues ``prompt``: the OpenAI ``text_completion`` dict (with
        ``usage``), or with ``stream=True`` an iterator of its chunks.

        Args:
            prompt: text (read with special-token text as special tokens, one
                BOS prepended unless it starts with one), or token ids used as
                they are.
            max_tokens: the most tokens to generate; None fills the context.
                0 only scores the prompt (with ``echo``).
            temperature: 0 is greedy; None: the model's generation_config.json
                (else 0.6).
            top_p: nucleus mass in (0, 1]; 1 is off. None: the model's default.
            top_k: keep the k most likely tokens; 0 is off. None: the model's default.
            min_p: drop tokens less likely than min_p × the most likely; 0 is off.
            repeat_penalty: repetition penalty; 1 is off.
            stop: up to 4 strings; the text ends before the first one.
            seed: the sampling seed (None: the Model's seed).
            logprobs: also return the log-probabilities of each token and its
                ``logprobs`` most likely alternatives (0..20), in the legacy
                completions shape.
            echo: the text starts with the prompt (with its logprobs when asked).
            stream: return an iterator of chunk dicts.
            stream_options: ``{"include_usage": True}`` adds a last chunk with usage.

        Raises:
            ValueError: a bad argument, or a prompt and answer that do not fit n_ctx.
            mobilellm.Error: the engine failed.
        """
        body: Dict[str, Any] = {"prompt": prompt if isinstance(prompt, str) else _ids("prompt", prompt)}
        if max_tokens is None:  # what the context leaves
            max_tokens = max(self.n_ctx - len(self._prompt_ids(body["prompt"])), 1)
        body["max_tokens"] = max_tokens
        self._sampling(body, temperature, top_p, top_k, min_p, repeat_penalty, stop, seed)
        if logprobs is not None:
            body["logprobs"] = logprobs
        body["echo"] = echo
        return self._request(self._core.completion, body, stream, stream_options)

    __call__ = create_completion

    def create_chat_completion(
        self,
        messages: Sequence[Mapping[str, Any]],
        tools: Optional[Sequence[Mapping[str, Any]]] = None,
        tool_choice: Optional[Union[str, Mapping[str, Any]]] = None,
        response_format: Optional[Mapping[str, Any]] = None,
        max_tokens: Optional[int] = None,
        temperature: Optional[float] = None,
        top_p: Optional[float] = None,
        top_k: Optional[int] = None,
        min_p: Optional[float] = None,
        repeat_penalty: Optional[float] = None,
        stop: Optional[Union[str, List[str]]] = None,
        seed: Optional[int] = None,
        logprobs: bool = False,
        top_logprobs: Optional[int] = None,
        stream: bool = False,
        stream_options: Optional[Mapping[str, Any]] = None,
    ) -> Union[Dict[str, Any], Iterator[Dict[str, Any]]]:
        """Answers a conversation in the model's chat format: the OpenAI
        ``chat.completion`` dict, or with ``stream=True`` an iterator of
        ``chat.completion.chunk`` dicts, as ``mobilellm serve`` answers
        /v1/chat/completions.

        Args:
            messages: OpenAI messages (``role``: system, developer, user,
                assistant or tool; ``content``; assistant ``tool_calls``; tool
                ``tool_call_id``). Dicts, or objects with ``model_dump()``.
            tools: OpenAI function tools; the chat format shows them to the
                model and an answer that calls them comes back as
                ``message.tool_calls`` with ``finish_reason`` "tool_calls".
            tool_choice: "auto" (default with tools), "none", "required", or
                ``{"type": "function", "function": {"name": ...}}``: the last
                two constrain the answer to a valid call.
            response_format: ``{"type": "json_object"}`` or ``{"type":
                "json_schema", "json_schema": {"name": ..., "schema": {...}}}``:
                the answer is constrained to JSON (matching the schema).
            max_tokens: the most tokens to generate; None fills the context.
            temperature, top_p, top_k, min_p, repeat_penalty, stop, seed: as
                for create_completion.
            logprobs: return the log-probability of each answer token.
            top_logprobs: with logprobs, also the 0..20 most likely alternatives.
            stream: return an iterator of chunk dicts.
            stream_options: ``{"include_usage": True}`` adds a last chunk with usage.

        Raises:
            ValueError: a bad argument (the message names the field), or a
                conversation that does not fit n_ctx.
            mobilellm.Error: the engine failed.
        """
        body: Dict[str, Any] = {"messages": [_plain(m) for m in messages]}
        if tools is not None:
            body["tools"] = [_plain(t) for t in tools]
        if tool_choice is not None:
            body["tool_choice"] = _plain(tool_choice)
        if response_format is not None:
            body["response_format"] = _plain(response_format)
        if max_tokens is not None:
            body["max_tokens"] = max_tokens
        self._sampling(body, temperature, top_p, top_k, min_p, repeat_penalty, stop, seed)
        if logprobs:
            body["logprobs"] = True
        if top_logprobs is not None:
            body["top_logprobs"] = top_logprobs
        return self._request(self._core.chat_completion, body, stream, stream_options)

    # ---- the machinery

    def _sampling(self, body: Dict[str, Any], temperature, top_p, top_k, min_p, repeat_penalty, stop, seed) -> None:
        for name, value in (("temperature", temperature), ("top_p", top_p), ("top_k", top_k), ("min_p", min_p),
                            ("repetition_penalty", repeat_penalty), ("stop", stop)):
            if value is not None:
                body[name] = value
        if seed is None:
            seed = self._seed if self._seed is not None else random.getrandbits(63)
        body["seed"] = seed

    def _request(self, call: Callable, body: Dict[str, Any], stream: bool,
                 stream_options: Optional[Mapping[str, Any]]) -> Union[Dict[str, Any], Iterator[Dict[str, Any]]]:
        if stream:
            body["stream"] = True
            if stream_options is not None:
                body["stream_options"] = _plain(stream_options)
        elif stream_options is not None:
            raise ValueError("stream_options needs stream=True")
        try:
            text = json.dumps(body, ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError) as e:
            raise ValueError(f"the request cannot be written as JSON: {e}") from None
        if stream:
            return self._stream(call, text)
        return json.loads(self._interruptible(lambda cancel: call(text, None, cancel)))

    def _prompt_ids(self, prompt: Union[str, List[int]]) -> List[int]:
        """The ids a completion runs for ``prompt`` (text: special tokens read, one BOS)."""
        if not isinstance(prompt, str):
            return prompt
        ids = self.tokenize(prompt, special=True)
        return ids if ids[:1] == [self.token_bos] or self.token_bos < 0 else [self.token_bos] + ids

    def _interruptible(self, work: Callable[[Any], Any]) -> Any:
        """Runs ``work(cancel)`` on a worker thread (the GIL released inside),
        so that Ctrl-C in the caller cancels it and raises KeyboardInterrupt."""
        cancel = _core.Cancel()
        outcome: Dict[str, Any] = {}

        def run() -> None:
            try:
                outcome["value"] = work(cancel)
            except BaseException as e:  # handed to the caller
                outcome["error"] = e

        worker = threading.Thread(target=run, name="mobilellm", daemon=True)
        worker.start()
        try:
            worker.join()
        except BaseException:
            cancel.set()
            worker.join()
            raise
        if "error" in outcome:
            raise outcome.pop("error")
        return outcome["value"]

    def _stream(self, call: Callable, text: str) -> Iterator[Dict[str, Any]]:
        """Starts a streamed request; errors in the request itself are raised
        here, before the first chunk, as the OpenAI client raises them."""
        cancel = _core.Cancel()
        chunks: "queue.Queue[Any]" = queue.Queue()

        def on_chunk(chunk: str) -> bool:
            chunks.put(chunk)
            return not cancel.is_set()

        def run() -> None:
            try:
                call(text, on_chunk, cancel)
            except BaseException as e:
                chunks.put(e)
            finally:
                chunks.put(_END)

        worker = threading.Thread(target=run, name="mobilellm-stream", daemon=True)
        worker.start()
        try:
            first = chunks.get()
        except BaseException:
            cancel.set()
            worker.join()
            raise
        if isinstance(first, BaseException):
            worker.join()
            raise first
        return _chunks(first, chunks, cancel, worker)


def _chunks(first: Any, chunks: "queue.Queue[Any]", cancel: Any, worker: threading.Thread) -> Iterator[Dict[str, Any]]:
    try:
        item = first
        while item is not _END:
            if isinstance(item, BaseException):
                raise item
            yield json.loads(item)
            item = chunks.get()
    finally:
        # Closed early (break, Ctrl-C, garbage collection): stop the generation.
        cancel.set()
        worker.join()


def _text_bytes(text: Any) -> bytes:
    """str as UTF-8, bytes-like as they are."""
    if isinstance(text, str):
        return text.encode("utf-8")
    if isinstance(text, (bytes, bytearray, memoryview)):
        return bytes(text)
    raise ValueError(f"text must be str or bytes, not {type(text).__name__}")


def _check_int(name: str, value: Any, low: int, high: Optional[int] = None) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be an int, not {type(value).__name__}")
    if value < low or (high is not None and value > high):
        raise ValueError(f"{name} must be in {low}..{'' if high is None else high}, not {value}")


def _ids(name: str, ids: Any) -> List[int]:
    if isinstance(ids, (str, bytes)):
        raise ValueError(f"{name} must be a list of token ids")
    try:
        out = [int(i) for i in ids]
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a list of token ids") from None
    for i, (given, value) in enumerate(zip(ids, out)):
        if isinstance(given, bool) or value != given or not 0 <= value < 2**31:
            raise ValueError(f"{name}[{i}] = {given!r} is not a token id")
    return out


def _plain(value: Any) -> Any:
    """OpenAI client objects (pydantic models) as the dicts they stand for."""
    dump = getattr(value, "model_dump", None)
    return dump(exclude_none=True) if callable(dump) else value
