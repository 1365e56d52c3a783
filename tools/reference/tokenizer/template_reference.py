#!/usr/bin/env python3
"""Reference renderings of real chat templates (tests/tokenizer/chat_templates,
the templates of common models that llama.cpp collects) by jinja2 exactly as
transformers' apply_chat_template runs them, on a few conversations: plain
turns, a system prompt, tools offered, an assistant tool call and its result.
A template that refuses a conversation (raise_exception, a role it does not
know) records the error; the C++ side must refuse it too.

Writes one JSON list: [{"template", "source", "case", "context", "expected" | "error"}]."""
import argparse
import json
import pathlib

from transformers.utils.chat_template_utils import _compile_jinja_template

TOOLS = [{"type": "function", "function": {
    "name": "get_weather", "description": "The weather in a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string", "description": "City name"}},
                   "required": ["city"]}}}]

CASES = [
    ("one_turn", {"messages": [{"role": "user", "content": "Hello!"}], "add_generation_prompt": True}),
    ("system_and_turns", {"messages": [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "What is 2+2?"},
        {"role": "assistant", "content": "4"},
        {"role": "user", "content": "And 3+3?  \n"}], "add_generation_prompt": True}),
    ("no_generation_prompt", {"messages": [
        {"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello, how can I help?"}],
        "add_generation_prompt": False}),
    ("tools", {"messages": [{"role": "user", "content": "Weather in Paris?"}], "tools": TOOLS,
               "add_generation_prompt": True}),
    ("tool_call_and_result", {"messages": [
        {"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "content": "", "tool_calls": [
            {"id": "abc123def", "type": "function",
             "function": {"name": "get_weather", "arguments": {"city": "Paris"}}}]},
        {"role": "tool", "name": "get_weather", "tool_call_id": "abc123def", "content": "sunny, 21 C"}],
        "tools": TOOLS, "add_generation_prompt": True}),
    # OpenAI's wire form: no content, arguments as a JSON string.
    ("tool_call_string_arguments", {"messages": [
        {"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "abc123def", "type": "function",
             "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}]},
        {"role": "tool", "name": "get_weather", "tool_call_id": "abc123def", "content": "sunny, 21 C"}],
        "tools": TOOLS, "add_generation_prompt": True}),
    # HTML-like text, quotes, non-ASCII and a reasoning block in an earlier answer.
    ("markup_and_reasoning", {"messages": [
        {"role": "user", "content": "<b>\"Hi\" & 'bye'</b> café 🙂"},
        {"role": "assistant", "content": "<think>\nThe user greets.\n</think>\n\nHello <there> & \"welcome\"!"},
        {"role": "user", "content": "  Tabs\tand\nnewlines  "}], "add_generation_prompt": True}),
]

# Every template sees the same tokens and a fixed date (templates that print
# today's date otherwise differ between the two renderings around midnight).
COMMON = {"bos_token": "<s>", "eos_token": "</s>", "date_string": "26 Jul 2024"}
# Variables a template needs besides transformers' (firefunction-v2 reads its
# tools as a JSON string in `functions`, and the date in `datetime`).
EXTRA = {"fireworks-ai-llama-3-firefunction-v2.jinja": {
    "functions": json.dumps([t["function"] for t in TOOLS], indent=2), "datetime": "2024-07-26"}}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--templates", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    out = []
    for path in sorted(pathlib.Path(args.templates).glob("*.jinja")):
        source = path.read_text(encoding="utf-8")
        compiled = _compile_jinja_template(source)
        for name, context in CASES:
            context = {**COMMON, **EXTRA.get(path.name, {}), **context}
            case = {"template": path.name, "source": source, "case": name, "context": context}
            try:
                case["expected"] = compiled.render(**context)
            except Exception as e:  # the template refuses this conversation
                case["error"] = f"{type(e).__name__}: {e}"
            out.append(case)
    pathlib.Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, indent=1)
    print(f"{len(out)} renderings of {len(out) // len(CASES)} templates")


if __name__ == "__main__":
    main()
