#!/usr/bin/env python3
"""Reference renderings of real chat templates (tests/chat/chat_templates,
the templates of common models that llama.cpp collects) by jinja2 exactly as
transformers' apply_chat_template runs them, on a few conversations: plain
turns, a system prompt, tools offered, an assistant tool call and its result.
A template that refuses a conversation (raise_exception, a role it does not
know) records the error; the C++ side must refuse it too.

With --features-out it also renders small templates, one per Jinja feature
the real templates led the interpreter to add, into a second JSON list:
[{"name", "source", "context", "expected" | "error"}].

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

# One small template per feature, each rendered by jinja2 as above.
D = {"b": 2, "A": 3, "c": 1}
ITEMS = [{"n": 2, "s": "b"}, {"n": 1, "s": "A"}, {"n": 2, "s": "a"}]
FEATURES = [
    ("comment_with_quotes", "a{#- it's \"quoted\" #}b{# {{ x }} '%} #}c\n  {# it's #}\nd", {}),
    ("filter_block", "{% filter upper | replace('A', '-') %}abc {{ x }}{% endfilter %}|"
     "{%- filter trim -%}  in  {{ x }}  {%- endfilter %}|{% filter indent(2, true) %}a\nb{% endfilter %}", {"x": "xa"}),
    ("set_block_filter", "{% set s | trim | upper %}  hi {{ x }}  {% endset %}[{{ s }}]", {"x": "there"}),
    ("generator_tojson_refused", "{{ xs | map('upper') | tojson }}", {"xs": ["a"]}),
    ("generator_used_up", "{% set g = xs | select %}{% for x in g %}{{ x }}{% endfor %}|{% for x in g %}{{ x }}{% endfor %}|"
     "{{ g is iterable }}|{{ 'yes' if ([] | select) else 'no' }}|{{ xs | select | list | length }}", {"xs": ["a", "", "b"]}),
    ("generator_partly_used", "{% set g = xs | reject('none') %}{{ g | first }}{{ 'c' in g }}{{ g | list }}", {"xs": ["a", None, "b", "c", "d"]}),
    ("generator_has_no_len", "{{ xs | select | length }}", {"xs": ["a"]}),
    ("generator_not_reversible", "{{ xs | select | last }}", {"xs": ["a"]}),
    ("dict_views", "{{ d.items() | list }}|{{ d.keys() | length }}|{{ 'A' in d.keys() }}|{{ d.keys() }}|{{ d.values() }}|"
     "{{ d.items() }}|{% for k, v in d.items() %}{{ k }}{{ v }}{% endfor %}|{% for k in d.keys() %}{{ k }}{% endfor %}"
     "{% for k in d.keys() %}{{ k }}{% endfor %}|{{ d.keys() is sequence }}", {"d": D}),
    ("dict_view_tojson_refused", "{{ d.values() | tojson }}", {"d": D}),
    ("markup", "{{ '<b>' | safe + '<i>' }}|{{ '<i>' + '<b>' | safe }}|{{ '<' ~ ('<b>' | safe) }}|{{ ('<a>' | safe) * 2 }}|"
     "{{ ('&' | e) + '&' }}|{{ '\"x\"' | escape }}|{{ ('<b>' | safe).join(['<', '>']) }}|{{ ('<b>' | safe | e) }}|"
     "{{ ('&' | safe) | string + '<' }}", {}),
    ("string_filters_take_any_value", "{{ none | trim }}|{{ none | upper }}|{{ 12 | replace('1', 'x') }}|{{ none | string }}|"
     "{{ missing | trim }}|{{ 3 | title }}|{{ [1] | lower }}|{{ 'a b' | replace(' ', none) }}|{{ none | wordcount }}", {}),
    ("filters_of_none", "{{ none | map('upper') | list }}|{{ none | selectattr('a') | list }}|{{ none | reject | list }}|"
     "{{ [] | map(attribute='x') | list }}|{{ '' | select | list }}", {}),
    ("map_arguments", "{{ xs | map('replace', 'a', 'b') | list }}|{{ items | map(attribute='n', default=0) | list }}|"
     "{{ [[1]] | map('tojson', indent=1) | list }}|{{ [{'n': none}, {}] | map(attribute='n', default=7) | list }}",
     {"xs": ["aa", "ba"], "items": [{"n": 1}, {}]}),
    ("sort", "{{ ['b', 'A', 'a', 'B'] | sort }}|{{ ['b', 'A', 'a', 'B'] | sort(case_sensitive=true) }}|"
     "{{ ['b', 'A', 'c'] | sort(true) }}|{{ items | sort(attribute='n', reverse=true) | map(attribute='s') | list }}|"
     "{{ items | sort(attribute='s') | map(attribute='n') | list }}", {"items": ITEMS}),
    ("unique", "{{ ['a', 'A', 'b', 'a'] | unique | list }}|{{ ['a', 'A'] | unique(true) | list }}|"
     "{{ items | unique(attribute='n') | map(attribute='s') | list }}|{{ [1, 1.0, true, 2] | unique | list }}", {"items": ITEMS}),
    ("dictsort", "{{ d | dictsort }}|{{ d | dictsort(by='value') }}|{{ d | dictsort(false, 'value', true) }}|"
     "{{ d | dictsort(true) }}", {"d": D}),
    ("dictsort_by_refused", "{{ d | dictsort(by='size') }}", {"d": D}),
    ("tojson_arguments", "{{ v | tojson(true) }}|{{ v | tojson(indent='\t') }}|{{ v | tojson(indent=-1) }}|"
     "{{ v | tojson(indent=0) }}|{{ v | tojson(false, none, (',', ':'), true) }}", {"v": {"b": "é", "a": [1, 2]}}),
    ("reverse", "{{ [1, 2] | reverse | list }}|{{ 'abc' | reverse }}|{{ d | reverse | list }}|{{ [3, 4] | select | reverse }}|"
     "{% for x in [5, 6] | reverse %}{{ x }}{% endfor %}", {"d": D}),
    ("reverse_iterator_tojson_refused", "{{ [1, 2] | reverse | tojson }}", {}),
    ("items_filter", "{{ d | items | list }}|{{ missing | items | list }}", {"d": D}),
    ("items_of_a_list_refused", "{{ [1] | items | list }}", {}),
    ("in_string_needs_a_string", "{{ 1 in 'a1' }}", {}),
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
    ap.add_argument("--features-out")
    args = ap.parse_args()
    for out_path in (args.out, args.features_out):
        if out_path:
            pathlib.Path(out_path).parent.mkdir(parents=True, exist_ok=True)
    if args.features_out:
        features = []
        for name, source, context in FEATURES:
            case = {"name": name, "source": source, "context": context}
            try:
                case["expected"] = _compile_jinja_template(source).render(**context)
            except Exception as e:  # the C++ side must refuse it too
                case["error"] = f"{type(e).__name__}: {e}"
            features.append(case)
        with open(args.features_out, "w", encoding="utf-8") as f:
            json.dump(features, f, ensure_ascii=False, indent=1)
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
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, indent=1)
    print(f"{len(out)} renderings of {len(out) // len(CASES)} templates")


if __name__ == "__main__":
    main()
