"""Shared-token authentication of robot servers.

The client sends `authorization: Bearer <token>` metadata on every call; the server's
`TokenAuthInterceptor` compares it in constant time and aborts any other call with
UNAUTHENTICATED, saying whether the token was missing or wrong (never what it should be).
The token is a secret shared out of band: `--token` or the environment variable
`FLEETRL_ROBOT_TOKEN`.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Callable, Mapping
from typing import Any

import grpc

from fleetrl.core.errors import ConfigError

TOKEN_ENV = "FLEETRL_ROBOT_TOKEN"
"""The environment variable a server and its clients read the token from by default."""

AUTH_KEY = "authorization"
_SCHEME = "Bearer "

MISSING_TOKEN = "missing token: send 'authorization: Bearer <token>' metadata"
WRONG_TOKEN = "wrong token"


def resolve_token(given: str | None, env: Mapping[str, str] | None = None, env_var: str = TOKEN_ENV) -> str:
    """The token `given`, else the one in `env_var`; `ConfigError` naming both when neither is set."""
    env = os.environ if env is None else env
    token = given or env.get(env_var, "")
    if not token.strip():
        raise ConfigError(
            f"no robot token: pass --token or set the environment variable {env_var} "
            "(the server refuses to start without one)"
        )
    return token


def auth_metadata(token: str) -> tuple[tuple[str, str], ...]:
    """The call metadata that authenticates a client holding `token`."""
    return ((AUTH_KEY, _SCHEME + token),)


def metadata_value(metadata: Any, key: str) -> str | None:
    """The first value of `key` in a call's metadata (pairs of key and value), if it is text."""
    values = [value for name, value in (metadata or ()) if name == key]
    return values[0] if values and isinstance(values[0], str) else None


def check_metadata(metadata: Any, token: str) -> str | None:
    """None when `metadata` carries `token`, else the reason to refuse the call."""
    value = metadata_value(metadata, AUTH_KEY)
    if value is None or not value.startswith(_SCHEME):
        return MISSING_TOKEN
    offered = value[len(_SCHEME) :]
    if not offered:
        return MISSING_TOKEN
    if not hmac.compare_digest(offered.encode("utf-8"), token.encode("utf-8")):
        return WRONG_TOKEN
    return None


def _abort_handler(handler: grpc.RpcMethodHandler, reason: str) -> grpc.RpcMethodHandler:
    """A handler of the same shape as `handler` that refuses the call with UNAUTHENTICATED."""

    def refuse(_request: Any, context: grpc.ServicerContext) -> Any:
        context.abort(grpc.StatusCode.UNAUTHENTICATED, reason)

    factories: dict[tuple[bool, bool], Callable[..., grpc.RpcMethodHandler]] = {
        (False, False): grpc.unary_unary_rpc_method_handler,
        (False, True): grpc.unary_stream_rpc_method_handler,
        (True, False): grpc.stream_unary_rpc_method_handler,
        (True, True): grpc.stream_stream_rpc_method_handler,
    }
    return factories[(handler.request_streaming, handler.response_streaming)](refuse)


class TokenAuthInterceptor(grpc.ServerInterceptor):
    """Lets through only calls whose metadata carries the server's token."""

    def __init__(self, token: str) -> None:
        if not token:
            raise ConfigError("a robot server needs a non-empty token")
        self._token = token

    def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], grpc.RpcMethodHandler | None],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler | None:
        handler = continuation(handler_call_details)
        if handler is None:
            return None  # unknown method: let gRPC answer UNIMPLEMENTED
        reason = check_metadata(handler_call_details.invocation_metadata, self._token)
        return handler if reason is None else _abort_handler(handler, reason)
