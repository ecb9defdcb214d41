"""The official OpenAI Python client's Responses API against `headroom proxy`: one create, one stream=True.

Usage: python responses_client.py PROXY_URL TOOL_OUTPUT_FILE
Prints one JSON line: what the client received.
"""
import json
import sys

from openai import OpenAI

proxy, tool_file = sys.argv[1], sys.argv[2]
tool_output = open(tool_file, encoding="utf-8").read()
client = OpenAI(base_url=proxy + "/v1", api_key="sk-python-client", max_retries=0)
tools = [{"type": "function", "name": "cargo_build", "parameters": {"type": "object", "properties": {}}}]
items = [
    {"role": "user", "content": "Why did the build fail?"},
    {"type": "function_call", "call_id": "call_1", "name": "cargo_build", "arguments": "{}"},
    {"type": "function_call_output", "call_id": "call_1", "output": tool_output},
]
created = client.responses.with_raw_response.create(model="gpt-4o", input=items, tools=tools)
response = created.parse()
stream = client.responses.create(model="gpt-4o", input=items, tools=tools, stream=True)
kinds, pieces, final = [], [], None
for event in stream:
    kinds.append(event.type)
    if event.type == "response.output_text.delta":
        pieces.append(event.delta)
    if event.type == "response.completed":
        final = event.response
print(
    json.dumps(
        {
            "text": response.output_text,
            "output_types": [item.type for item in response.output],
            "tokens_saved": created.headers.get("x-headroom-tokens-saved"),
            "streamed": "".join(pieces),
            "final_text": final.output_text if final else None,
            "kinds": kinds,
        }
    )
)
