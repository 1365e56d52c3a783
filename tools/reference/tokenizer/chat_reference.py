#!/usr/bin/env python3
"""Reference chat renderings, produced by jinja2 exactly as transformers'
apply_chat_template runs it (its sandboxed environment, trim_blocks,
lstrip_blocks, its tojson, raise_exception, strftime_now), for

  * the Llama-4 chat template shipped inside the transformers package
    (transformers/models/llama4/processing_llama4.py), on conversations with
    a system prompt and several turns, tools offered, an assistant tool call
    and tool results;
  * small templates that exercise the Jinja features chat templates use.

Writes one JSON file: {"llama4_template": str, "chat": [...], "jinja": [...]}."""
import argparse
import ast
import importlib.util
import json
import pathlib

from transformers.utils.chat_template_utils import _compile_jinja_template, render_jinja_template


def llama4_template():
    """The `chat_template` string of transformers/models/llama4/processing_llama4.py,
    read from the installed file (importing the module would pull in torch)."""
    package = pathlib.Path(importlib.util.find_spec("transformers").origin).parent
    tree = ast.parse((package / "models/llama4/processing_llama4.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "chat_template" for t in node.targets):
            return ast.literal_eval(node.value)
    raise SystemExit("no chat_template in transformers' processing_llama4.py")


LLAMA4 = llama4_template()
BOS, EOS = "<|begin_of_text|>", "<|eot|>"

WEATHER = {"type": "function", "function": {
    "name": "get_weather", "description": "Current weather in a city — Météo",
    "parameters": {"type": "object", "properties": {
        "city": {"type": "string", "description": "City name, e.g. \"Paris\""},
        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
        "required": ["city"]}}}
SEARCH = {"type": "function", "function": {
    "name": "search", "description": "Web search", "parameters": {
        "type": "object", "properties": {"query": {"type": "string"}, "top_k": {"type": "integer", "default": 3}},
        "required": ["query"]}}}

CHATS = [
    ("known_vector", [{"role": "user", "content": "Who are you?"}], None, True, {}),
    ("system_multi_turn", [
        {"role": "system", "content": "  You are a helpful assistant.\n"},
        {"role": "user", "content": "Hi! What's 2+2?"},
        {"role": "assistant", "content": "2 + 2 = 4."},
        {"role": "user", "content": "And in French? <|eot|> is just text here"},
    ], None, True, {}),
    ("no_generation_prompt", [
        {"role": "user", "content": "Bonjour"}, {"role": "assistant", "content": "Salut ! 😀"}], None, False, {}),
    ("tools_offered", [
        {"role": "system", "content": "You can use tools."},
        {"role": "user", "content": "  Weather in Paris?  "},
    ], [WEATHER, SEARCH], True, {}),
    ("tools_in_system", [
        {"role": "system", "content": "You can use tools."},
        {"role": "user", "content": "Weather in Paris?"},
    ], [WEATHER], True, {"tools_in_user_message": False}),
    ("tool_call_and_result", [
        {"role": "user", "content": "What is the weather in Paris?"},
        {"role": "assistant", "content": "", "tool_calls": [
            {"id": "call_1", "type": "function",
             "function": {"name": "get_weather", "arguments": {"city": "Paris", "unit": "celsius"}}}]},
        {"role": "tool", "tool_call_id": "call_1", "name": "get_weather", "content": "{\"temp\": 21, \"sky\": \"clear\"}"},
        {"role": "assistant", "content": "It is 21 °C and clear in Paris."},
        {"role": "user", "content": "Thanks"},
    ], None, True, {}),
    ("tool_result_object", [
        {"role": "system", "content": "sys"},
        {"role": "user", "content": "q"},
        {"role": "assistant", "content": "", "tool_calls": [
            {"type": "function", "function": {"name": "search", "arguments": {"query": "a \"quoted\" é", "top_k": 2}}},
            {"type": "function", "function": {"name": "get_weather", "arguments": {"city": "Oslo"}}}]},
        {"role": "ipython", "content": {"results": [1, 2.5, None, True], "note": "ü"}},
    ], [SEARCH, WEATHER], True, {}),
    ("content_parts", [
        {"role": "system", "content": [{"type": "text", "text": "Be brief."}]},
        {"role": "user", "content": [{"type": "text", "text": "Describe"}, {"type": "text", "text": " this."}]},
    ], None, True, {}),
]

# (name, template, context) rendered by the same environment.
JINJA = [
    ("text_and_vars", "Hello {{ name }}! {{ n + 1 }} {{ x }}|{{ missing }}|", {"name": "Ada", "n": 41, "x": 1.5}),
    ("whitespace_control", "a  {{- ' b ' -}}  c\n  {%- if true %}\nd{% endif %}  \n  {% if true -%}  e  {%- endif %}\n{# c #}\nf",
     {}),
    ("trim_lstrip_blocks", "<ul>\n    {% for i in items %}\n    <li>{{ i }}</li>\n    {% endfor %}\n</ul>\n  {#- note #}\nend\n",
     {"items": ["x", "y"]}),
    ("plus_modifiers", "  {%+ if true %}x{% endif +%}\nz", {}),
    ("loop_vars", "{% for x in xs %}{{ loop.index }}/{{ loop.index0 }}/{{ loop.revindex }}/{{ loop.first }}/"
                  "{{ loop.last }}/{{ loop.length }}/{{ loop.previtem }}/{{ loop.nextitem }}/{{ loop.cycle('a','b') }};"
                  "{% endfor %}", {"xs": [10, 20, 30]}),
    ("for_else_filter_unpack", "{% for k, v in d.items() if v > 1 %}{{ k }}={{ v }},{% else %}none{% endfor %}"
                               "{% for x in [] %}x{% else %}empty{% endfor %}", {"d": {"a": 1, "b": 2, "c": 3}}),
    ("break_continue", "{% for i in range(10) %}{% if i == 2 %}{% continue %}{% endif %}{% if i > 4 %}{% break %}"
                       "{% endif %}{{ i }}{% endfor %}", {}),
    ("namespace_and_scope", "{% set ns = namespace(found=false, n=0) %}{% set x = 1 %}{% for m in ms %}{% set x = 2 %}"
                            "{% if m.role == 'tool' %}{% set ns.found = true %}{% endif %}{% set ns.n = ns.n + 1 %}"
                            "{% endfor %}{{ ns.found }} {{ ns.n }} {{ x }}",
     {"ms": [{"role": "user"}, {"role": "tool"}]}),
    ("macro", "{% macro render(m, prefix='> ') %}{{ prefix }}{{ m.content | trim }}{% endmacro %}"
              "{% for m in ms %}{{ render(m) }}|{{ render(m, prefix='# ') }}\n{% endfor %}",
     {"ms": [{"content": "  hi "}, {"content": "yo"}]}),
    ("filters", "{{ '  Ab c  ' | trim }}|{{ xs | length }}|{{ 'abc' | upper }}|{{ 'ABC' | lower }}|{{ 'hello world' | title }}|"
                "{{ 'hello' | capitalize }}|{{ xs | join(', ') }}|{{ xs | first }}|{{ xs | last }}|{{ xs | reverse | list }}|"
                "{{ none_value | default('d') }}|{{ '' | default('e', true) }}|{{ 'a-b' | replace('-', '+') }}|"
                "{{ [3, 1, 2] | sort }}|{{ [1, 2, 2, 3] | unique | list }}|{{ '42' | int + 1 }}|{{ 2.5 | round }}|"
                "{{ ms | map(attribute='role') | join(',') }}|{{ ms | selectattr('role', 'equalto', 'user') | list | length }}|"
                "{{ [1, 2, 3, 4] | select('odd') | list }}|{{ [1, 2, 3] | sum }}|{{ 'a\nb' | indent(2, true) }}|"
                "{{ d | dictsort }}|{{ [1, 5, 3] | max }}|{{ 'x' ~ 1 ~ none }}",
     {"xs": ["a", "b", "c"], "ms": [{"role": "user"}, {"role": "assistant"}, {"role": "user"}], "d": {"b": 1, "a": 2}}),
    ("tojson", "{{ v | tojson }}\n{{ v | tojson(indent=2) }}\n{{ v | tojson(separators=(',', ':')) }}\n"
               "{{ v | tojson(sort_keys=true) }}\n{{ v | tojson(ensure_ascii=true) }}\n{{ 'x\"y\\n' | tojson }}",
     {"v": {"b": [1, 2.0, 1e-07, 1e+16, 123456789.125, None, True], "a": "é\u2028\t\x01", "c": {}, "d": [],
            "e": 0.1, "f": -0.0}}),
    ("python_str_of_values", "{{ [1, 'a', none, true, 2.0] }}|{{ {'k': 'v', 'q': \"it's\"} }}|{{ 3 / 2 }}|{{ 7 // 2 }}|"
                             "{{ -7 // 2 }}|{{ -7 % 3 }}|{{ 2 ** 10 }}|{{ 1e3 }}|{{ 10 / 4 * 2 }}", {}),
    ("string_methods", "{{ s.startswith('He') }} {{ s.endswith(('x', 'd')) }} {{ s.strip() }}|{{ s.lstrip() }}|"
                       "{{ s.rstrip() }}|{{ s.split() }}|{{ 'a,b,,c'.split(',') }}|{{ s.upper() }}|{{ s.replace('l', 'L') }}|"
                       "{{ s.strip().title() }}|{{ '-'.join(['x', 'y']) }}|{{ s.find('o') }}",
     {"s": "  Hello World  "}),
    ("tests_and_logic", "{{ x is defined }} {{ y is defined }} {{ y is undefined }} {{ n is none }} {{ s is string }} "
                        "{{ d is mapping }} {{ l is iterable }} {{ s is iterable }} {{ 3 is odd }} {{ 4 is even }} "
                        "{{ 9 is divisibleby 3 }} {{ 1 is number }} {{ 1.5 is float }} {{ 1 is integer }} "
                        "{{ 'a' in s }} {{ 'k' in d }} {{ 2 in l }} {{ 5 not in l }} {{ x and 'yes' }} {{ n or 'fallback' }} "
                        "{{ not x }} {{ 1 < 2 < 3 }} {{ 'b' if x else 'c' }} {{ 'b' if n }}|{{ l[1:] }} {{ l[::-1] }} "
                        "{{ s[1:3] }} {{ l[-1] }} {{ d.k }} {{ d['k'] }} {{ d.get('z', 'dflt') }} {{ d.missing }}|",
     {"x": 1, "n": None, "s": "abc", "d": {"k": "v"}, "l": [1, 2, 3]}),
    ("set_block_and_raw", "{% set greeting %}Hi {{ name }}{% endset %}{{ greeting | upper }}"
                          "{% raw %}{{ not rendered }}{% endraw %}", {"name": "Bo"}),
    ("raise_exception", "{% if not ok %}{{ raise_exception('bad input: ' ~ why) }}{% endif %}ok", {"ok": False, "why": "x"}),
    ("generation_block", "{% for m in ms %}{% generation %}{{ m }}{% endgeneration %}{% endfor %}", {"ms": ["a", "b"]}),
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    chats = []
    for name, messages, tools, agp, extra in CHATS:
        rendered, _ = render_jinja_template(conversations=[messages], tools=tools, chat_template=LLAMA4,
                                            add_generation_prompt=agp, bos_token=BOS, eos_token=EOS, **extra)
        chats.append({"name": name, "messages": messages, "tools": tools, "add_generation_prompt": agp,
                      "extra": extra, "expected": rendered[0]})
    jinja = []
    for name, template, context in JINJA:
        case = {"name": name, "template": template, "context": context}
        try:
            case["expected"] = _compile_jinja_template(template).render(**context)
        except Exception as e:  # the C++ side must fail too
            case["error"] = str(e)
        jinja.append(case)
    pathlib.Path(args.out).parent.mkdir(parents=True, exist_ok=True)  # a fresh build tree has no reference/ yet
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump({"llama4_template": LLAMA4, "chat": chats, "jinja": jinja}, f, ensure_ascii=False, indent=1)
    print(f"{len(chats)} chats, {len(jinja)} templates")


if __name__ == "__main__":
    main()
