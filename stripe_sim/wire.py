"""Stripe's wire format: form-encoded nested parameters in, JSON out.

Stripe clients send `metadata[k]=v`, `expand[]=x` and, from the Python SDK, indexed arrays
`expand[0]=x`, `items[0][price]=p`. We decode all of them to plain dicts and lists of strings;
type conversion and validation happen per endpoint in params.py.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from .errors import InvalidRequest


def _split_key(key: str) -> list[str]:
    """`a[b][0][]` -> ["a", "b", "0", ""]."""
    if "[" not in key:
        return [key]
    head, _, rest = key.partition("[")
    parts = [head]
    while rest:
        inner, sep, rest = rest.partition("]")
        if not sep:
            raise InvalidRequest(f"Invalid array or hash syntax in parameter: {key}", param=key)
        parts.append(inner)
        if rest.startswith("["):
            rest = rest[1:]
        elif rest:
            raise InvalidRequest(f"Invalid array or hash syntax in parameter: {key}", param=key)
    return parts


def _listify(node: Any) -> Any:
    # Dicts whose keys are all integer indices came from `a[0]=..&a[1]=..`: they are arrays.
    if isinstance(node, dict):
        for k, v in node.items():
            node[k] = _listify(v)
        if node and all(k.isdigit() for k in node):
            return [node[k] for k in sorted(node, key=int)]
        return node
    if isinstance(node, list):
        return [_listify(v) for v in node]
    return node


def decode_form(text: str) -> dict[str, Any]:
    """Decode a query string or x-www-form-urlencoded body into nested dicts and lists."""
    root: dict[str, Any] = {}
    if not text:
        return root
    for key, value in parse_qsl(text, keep_blank_values=True):
        parts = _split_key(key)
        node: Any = root
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            if isinstance(node, list):
                # `a[]` arrays: each `[]` pair appends; nested `a[][k]` is not used by Stripe.
                if last:
                    node.append(value)
                else:
                    raise InvalidRequest(f"Invalid array syntax in parameter: {key}", param=key)
                break
            if last:
                if part == "" and i > 0:
                    raise InvalidRequest(f"Invalid parameter: {key}", param=key)
                node[part] = value
                break
            nxt = parts[i + 1]
            child = node.get(part)
            if nxt == "":
                if not isinstance(child, list):
                    child = []
                    node[part] = child
            elif not isinstance(child, dict):
                child = {}
                node[part] = child
            node = child
    return _listify(root)


def dumps(obj: Any) -> bytes:
    # Compact separators: list pages of 100 balance transactions are the hot path.
    return json.dumps(obj, separators=(",", ":")).encode()


def pretty(obj: Any) -> bytes:
    """Webhook payloads are sent pretty-printed, as Stripe does."""
    return json.dumps(obj, indent=2).encode()
