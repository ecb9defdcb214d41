"""The official OpenAI Python client against `headroom proxy`: one create, one stream=True.

Usage: python openai_client.py PROXY_URL TOOL_OUTPUT_FILE
Prints one JSON line: what the client received.
"""
import json
import sys

from openai import OpenAI

proxy, tool_file = sys.argv[1], sys.argv[2]
tool_output = open(tool_file, encoding="utf-8").read()
client = OpenAI(base_url=proxy + "/v1", api_key="sk-python-client", max_retries=0)
messages = [
    {"role": "user", "content": "Why did the build fail?"},
    {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "cargo_build", "arguments": "{}"}}
        ],
    },
    {"role": "tool", "tool_call_id": "call_1", "content": tool_output},
]
created = client.chat.completions.with_raw_response.create(model="gpt-4o", messages=messages)
completion = created.parse()
stream = client.chat.completions.create(model="gpt-4o", messages=messages, stream=True)
pieces = [chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices]
print(
    json.dumps(
        {
            "content": completion.choices[0].message.content,
            "tokens_saved": created.headers.get("x-headroom-tokens-saved"),
            "streamed": "".join(pieces),
            "chunks": len(pieces),
        }
    )
)
