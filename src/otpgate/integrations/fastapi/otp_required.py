"""``@gate.otp_required(max_age)``: step-up as a decorator of the endpoint, no dependency.

FastAPI solves every dependency level of a route on each request (~9 µs in process, more
than the check itself), so ``Depends(gate.require_second_factor())`` cannot cost a route
less than that. The decorator adds no level: it wraps the endpoint, and FastAPI solves
only what the endpoint needs anyway. The wrapper's signature (``__signature__``) is the
endpoint's, with what the check needs added as hidden keyword-only parameters where the
endpoint has none of its own:

- the subject: the endpoint's own ``Depends(gate.current_subject)`` parameter (plain default
  or ``Annotated``) if it has one (the same value, computed once), else a hidden one on the
  same dependency, so FastAPI's cache and ``app.dependency_overrides`` apply unchanged;
- the ``Request`` (FastAPI hands it over without solving anything);
- with an app's own ``session_key``: its ``Depends(gate.session_key)``, the same way.

Hidden parameters are taken out before the endpoint is called and never reach OpenAPI (a
``Request`` and a dependency have no schema; the subject's own parameters, such as its
``Authorization`` header, are documented as the dependency form documents them). The check
is :class:`~otpgate.integrations.fastapi.dependencies.StepUpCheck`, the dependency's, and its
errors are raised to the app's exception handlers as the dependency's are. A parameter
annotated :class:`~otpgate.Verification` (without a default) receives what passed; one FastAPI
would read from the request (with a default, ``| None``) is refused. The check
runs once FastAPI has solved the endpoint's parameters (its body validated, its other
dependencies run), right before the endpoint: a refused request never reaches the endpoint.

Put it UNDER the route decorator: above it, the route was registered with the endpoint
before it was wrapped. :func:`refuse_unprotected_routes` (run when the gate's lifespan starts,
on the app it is given or else the one ``gate.install`` was given) fails the start-up of such
an app instead of letting it serve the route unprotected.
"""

from __future__ import annotations

import functools
import inspect
import weakref
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Annotated, Any, TypeVar, cast, get_args, get_origin

from fastapi import Depends, Request
from fastapi.params import Depends as DependsParam
from starlette.concurrency import run_in_threadpool

from otpgate.core.challenge import Verification

from .dependencies import StepUpCheck

if TYPE_CHECKING:
    from .gate import OtpGate

Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])

#: The functions ``otp_required`` wrapped (and what they wrap in turn): a route serving one of
#: them serves the endpoint without the check. Not an attribute: ``functools.wraps`` would
#: copy it onto the next wrapper, protected or not.
_WRAPPED: weakref.WeakSet[Any] = weakref.WeakSet()
_REQUEST, _SUBJECT, _SESSION = "_otpgate_request", "_otpgate_subject", "_otpgate_session_key"


def protect(gate: OtpGate, max_age: int) -> Callable[[Endpoint], Endpoint]:
    """``gate.otp_required(max_age)``: the decorator (see the module's docstring)."""
    check = StepUpCheck(gate, max_age)

    def decorate(endpoint: Endpoint) -> Endpoint:
        return cast(Endpoint, _protect(gate, check, endpoint))

    return decorate


def _protect(gate: OtpGate, check: StepUpCheck, endpoint: Callable[..., Any]) -> Any:
    _refuse_odd(endpoint)
    signature = inspect.signature(endpoint)
    globalns = getattr(inspect.unwrap(endpoint), "__globals__", {})
    kept: list[inspect.Parameter] = []
    request_name = subject_name = session_name = verification_name = None
    for parameter in signature.parameters.values():
        if parameter.name in (_REQUEST, _SUBJECT, _SESSION):
            raise TypeError(f"otp_required: {parameter.name!r} is a name otpgate uses")
        annotation = _resolved(parameter.annotation, globalns)
        parameter = parameter.replace(annotation=annotation)
        if annotation is Verification and parameter.default is inspect.Parameter.empty:
            verification_name = parameter.name
            continue  # ours to pass, not FastAPI's to solve
        if _names_verification(annotation) and not isinstance(parameter.default, DependsParam):
            raise TypeError(
                f"otp_required: the parameter {parameter.name!r} would be read from the "
                "request (a client could send any Verification); annotate it plain "
                "`Verification`, without a default, to receive what passed"
            )
        if request_name is None and _is_request(annotation):
            request_name = parameter.name
        elif subject_name is None and _depends_on(parameter, gate.current_subject):
            subject_name = parameter.name
        elif session_name is None and _depends_on(parameter, gate.session_key):
            session_name = parameter.name
        kept.append(parameter)
    hidden: list[inspect.Parameter] = []
    keyword = inspect.Parameter.KEYWORD_ONLY
    if request_name is None:
        hidden.append(inspect.Parameter(_REQUEST, keyword, annotation=Request))
    if subject_name is None:
        subject_default = Depends(gate.current_subject)
        hidden.append(inspect.Parameter(_SUBJECT, keyword, default=subject_default))
    if session_name is None and not check.reads_authorization:
        session_default = Depends(gate.session_key)
        hidden.append(inspect.Parameter(_SESSION, keyword, default=session_default))
    at = next((i for i, p in enumerate(kept) if p.kind is p.VAR_KEYWORD), len(kept))
    returns = _resolved(signature.return_annotation, globalns)
    # Run as FastAPI would: awaited if a coroutine function, else in the threadpool. ``bound``:
    # a method decorated in its class body and served bound passes its instance first.
    awaited = inspect.iscoroutinefunction(endpoint) or inspect.iscoroutinefunction(
        inspect.unwrap(endpoint)
    )
    reads_authorization, on_request = check.reads_authorization, check.on_request

    async def otp_required_endpoint(*bound: Any, **values: Any) -> Any:
        request = values.pop(_REQUEST) if request_name is None else values[request_name]
        subject = values.pop(_SUBJECT) if subject_name is None else values[subject_name]
        if reads_authorization:
            verification = await on_request(request, subject)
        else:
            session = values.pop(_SESSION) if session_name is None else values[session_name]
            verification = await check.with_session(request, subject, session)
        if verification_name is not None:
            values[verification_name] = verification
        if awaited:
            return await endpoint(*bound, **values)
        return await run_in_threadpool(endpoint, *bound, **values)

    wrapper = functools.wraps(endpoint)(otp_required_endpoint)
    wrapper.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[*kept[:at], *hidden, *kept[at:]], return_annotation=returns
    )
    _mark(endpoint)
    return wrapper


def _refuse_odd(endpoint: Callable[..., Any]) -> None:
    """A function (or method) returning a response, nothing else: a streaming endpoint (a
    generator) would be checked before its first item only on some FastAPI versions."""
    if not (inspect.isfunction(endpoint) or inspect.ismethod(endpoint)):
        raise TypeError(
            f"@gate.otp_required decorates an endpoint function, not {endpoint!r}; use "
            "Depends(gate.require_second_factor()) for other endpoints"
        )
    for function in (endpoint, inspect.unwrap(endpoint)):
        if inspect.isgeneratorfunction(function) or inspect.isasyncgenfunction(function):
            raise TypeError(
                f"@gate.otp_required does not wrap a streaming (generator) endpoint "
                f"({endpoint.__qualname__}); use Depends(gate.require_second_factor()) there"
            )


def _resolved(annotation: Any, globalns: dict[str, Any]) -> Any:
    """A string annotation (``from __future__ import annotations``) evaluated in the
    endpoint's module, as FastAPI would (the wrapper's own module is another one); one
    that does not evaluate is left for FastAPI to report."""
    if not isinstance(annotation, str):
        return annotation
    try:
        return eval(annotation, globalns)  # noqa: S307 - what typing.get_type_hints does
    except Exception:
        return annotation


def _names_verification(annotation: Any) -> bool:
    """``Verification`` in the annotation (``| None``, ``Annotated[...]``, nested)."""
    if annotation is Verification:
        return True
    return any(_names_verification(arg) for arg in get_args(annotation))


def _is_request(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, Request)


def _depends_on(parameter: inspect.Parameter, dependency: Callable[..., Any]) -> bool:
    """The parameter is ``Depends(dependency)``, as a default or in ``Annotated``."""
    marks: list[Any] = [parameter.default]
    if get_origin(parameter.annotation) is Annotated:
        marks.extend(get_args(parameter.annotation)[1:])
    return any(isinstance(m, DependsParam) and m.dependency is dependency for m in marks)


def _mark(endpoint: Callable[..., Any]) -> None:
    """Remember the endpoint (and whatever it wraps) as served only behind the check."""
    function: Any = endpoint
    while function is not None:
        try:
            _WRAPPED.add(getattr(function, "__func__", function))
        except TypeError:  # pragma: no cover - not weakly referenceable: a builtin inside
            return
        function = getattr(function, "__wrapped__", None)


def _is_marked(endpoint: Any) -> bool:
    return getattr(endpoint, "__func__", endpoint) in _WRAPPED


def refuse_unprotected_routes(app: object) -> None:
    """Raise if a route of ``app`` (mounted apps and included routers too) serves an endpoint
    that ``@gate.otp_required`` wrapped after the route was made: the decorator was put
    above ``@app.get``/``@app.post``, so the route runs without the step-up check."""
    for path, route in _routes(app, "", 0):
        endpoint = getattr(route, "endpoint", None)
        if endpoint is not None and _is_marked(endpoint):
            name = getattr(endpoint, "__qualname__", repr(endpoint))
            raise RuntimeError(
                f"the route {path} serves {name} WITHOUT its step-up check: "
                "@gate.otp_required was applied after the route decorator registered the "
                "endpoint. Put @gate.otp_required(...) under @app.get/@app.post(...), "
                "next to the function."
            )


def _routes(app: object, prefix: str, depth: int) -> Iterable[tuple[str, object]]:
    """``(full path, route)`` of every route under ``app``: through a ``Mount``/``Host``
    (its app's routes, behind any middleware it was mounted in) and a router FastAPI >=
    0.12x includes by reference."""
    routes = getattr(app, "routes", None)
    if app is None or depth > 32:
        return
    if not isinstance(routes, list):  # a middleware around a mounted app: the app it wraps
        yield from _routes(getattr(app, "app", None), prefix, depth + 1)
        return
    for route in routes:
        path = prefix + str(getattr(route, "path", ""))
        if hasattr(route, "endpoint"):
            yield path, route
            continue
        included = getattr(route, "original_router", None)
        if included is not None:  # fastapi.routing._IncludedRouter
            context = getattr(route, "include_context", None)
            yield from _routes(included, prefix + getattr(context, "prefix", ""), depth + 1)
        else:
            yield from _routes(getattr(route, "app", None), path, depth + 1)
