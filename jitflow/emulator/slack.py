"""A local stand-in for Slack's Web API: the methods jitflow's Slack delivery and front door call.

``auth.test``, ``chat.postMessage``, ``chat.update``, ``chat.postEphemeral``,
``conversations.open``, ``users.info``, ``users.lookupByEmail`` and ``views.open``, at
``/api/<method>`` (so ``slack_sdk``'s ``base_url`` is ``<emulator>/api/``), taking arguments as
Slack does: query string, form or JSON body. As Slack, it answers HTTP 200 with
``{"ok": false, "error": "..."}`` for a refusal (``not_authed``, ``invalid_auth``,
``channel_not_found``, ``user_not_found``, ``users_not_found``, ``message_not_found``...), and 429
with ``Retry-After`` when rate limited. The bearer token must be the workspace's bot token.
The directory methods reducers' ``slack`` calls use (``conversations.list``,
``conversations.members``, ``users.list``, ``usergroups.users.list``) are in
``slack_directory.py``; ``views.update`` (with Slack's ``hash`` check) is in ``slack_views.py``.

Under ``/_emulator/`` it shows what the bot did and plays the people:

- ``GET messages`` every message recorded (channel, ts, text, blocks, every update, ephemerals);
- ``PUT faults`` ``{"down": true}`` (every call 503) or scripted ``faults`` (the next calls 5xx
  or 429, or answered ``delay_ms`` late), like the Aptible emulator's;
- ``POST click`` ``{"channel", "ts", "action", "user"}`` builds the ``block_actions`` payload of
  that user clicking that button, signs it with the signing secret exactly as Slack does, POSTs
  it to the front door (``front_door_url``) and returns the front door's answer;
  ``"signing_secret"`` and ``"timestamp_offset"`` sign it wrongly or late, for tests;
- ``POST command`` does the same for a slash command (``/jitflow``), to ``commands_url``; a
  text answer is recorded as the ephemeral message Slack shows the person in that channel;
- ``POST submit`` ``{"view_id", "user", "values": {block_id: value}}`` submits a modal that
  ``views.open`` opened, filled in, as a signed ``view_submission`` to the front door;
- ``POST suggest`` ``{"view_id", "user", "block_id", "value"}`` plays typing ``value`` into an
  ``external_select``: a signed ``block_suggestion``; the options answered are kept, and are
  what a later ``submit`` may pick there;
- ``POST act`` ``{"view_id", "user", "block_id", "value", "values"}`` plays changing an input
  that dispatches actions (the others holding ``values``): a signed ``block_actions``; with
  ``"view"`` (an earlier version of that modal, as ``views.open`` or ``views.update`` answered
  it) the action comes from that version, as when the app's redraw lands after the person acted;
- ``PUT front_door`` ``{"url": ..., "commands_url": ...}`` sets where clicks and commands go.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from typing import Any
from urllib.parse import parse_qsl

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from jitflow.emulator.slack_clicks import (
    ClickError,
    block_actions_payload,
    block_suggestion_payload,
    interaction_body,
    signed_headers,
    slash_command_body,
    view_action_payload,
    view_submission_payload,
)
from jitflow.emulator.slack_directory import DIRECTORY_METHODS
from jitflow.emulator.slack_state import (
    BOT_ID,
    BOT_USER_ID,
    MessageVersion,
    RecordedMessage,
    SlackFault,
    SlackState,
    SlackUser,
)
from jitflow.emulator.slack_views import VIEW_METHODS, view_hash

Args = dict[str, Any]
#: How long the emulator waits for the front door to answer a click (Slack waits 3 s).
FRONT_DOOR_TIMEOUT_SECONDS = 10.0


def ok(**body: Any) -> JSONResponse:
    return JSONResponse({"ok": True, **body})


def refused(error: str, **extra: Any) -> JSONResponse:
    """Slack's refusal: HTTP 200 and ``ok: false`` with the error's code."""
    return JSONResponse({"ok": False, "error": error, **extra})


def _content(args: Args) -> tuple[str, list[dict[str, Any]]] | JSONResponse:
    """A message's text and blocks, or Slack's refusal of them (as chat.* methods answer)."""
    blocks = _blocks(args.get("blocks"))
    if blocks is None:
        return refused("invalid_blocks")
    text = str(args.get("text") or "")
    if not text and not blocks:
        return refused("no_text")
    return text, blocks


def _blocks(value: Any) -> list[dict[str, Any]] | None:
    """Blocks given as a list or as JSON text (form posts); None when malformed."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return None
    if isinstance(value, list) and all(isinstance(block, dict) for block in value):
        return value
    return None


class SlackApi:
    """The Web API methods over one ``SlackState``."""

    def __init__(self, state: SlackState) -> None:
        self.state = state

    def auth_test(self, args: Args) -> Response:
        state = self.state
        return ok(
            url=f"https://{state.team_domain}.slack.com/",
            team=state.team_domain,
            user="jitflow",
            team_id=state.team_id,
            user_id=BOT_USER_ID,
            bot_id=BOT_ID,
        )

    def _conversation(self, reference: str) -> str | None:
        """A channel id for ``reference``: a channel id or name, or a user id (their DM)."""
        channel = self.state.channel(reference)
        if channel is not None:
            return channel.id
        if self.state.user(reference) is not None:
            return self.state.open_conversation([reference]).id
        return None

    def post_message(self, args: Args) -> Response:
        channel = self._conversation(str(args.get("channel", "")))
        if channel is None:
            return refused("channel_not_found")
        content = _content(args)
        if isinstance(content, JSONResponse):
            return content
        text, blocks = content
        message = self.state.record(
            RecordedMessage(
                channel=channel,
                ts=self.state.next_ts(),
                text=text,
                blocks=blocks,
                thread_ts=args.get("thread_ts") or None,
            )
        )
        body = {"type": "message", "text": text, "blocks": blocks, "ts": message.ts}
        return ok(channel=channel, ts=message.ts, message={**body, "bot_id": BOT_ID})

    def update(self, args: Args) -> Response:
        channel = self.state.channel(str(args.get("channel", "")))
        if channel is None:
            return refused("channel_not_found")
        message = self.state.message(channel.id, str(args.get("ts", "")))
        if message is None:
            return refused("message_not_found")
        content = _content(args)
        if isinstance(content, JSONResponse):
            return content
        text, blocks = content
        message.updates.append(MessageVersion(text=text, blocks=blocks))
        return ok(channel=channel.id, ts=message.ts, text=text)

    def post_ephemeral(self, args: Args) -> Response:
        channel = self._conversation(str(args.get("channel", "")))
        if channel is None:
            return refused("channel_not_found")
        user = self.state.user(str(args.get("user", "")))
        if user is None:
            return refused("user_not_found")
        content = _content(args)
        if isinstance(content, JSONResponse):
            return content
        text, blocks = content
        message = self.state.record(
            RecordedMessage(
                channel=channel,
                ts=self.state.next_ts(),
                text=text,
                blocks=blocks,
                ephemeral_to=user.id,
            )
        )
        return ok(message_ts=message.ts)

    def conversations_open(self, args: Args) -> Response:
        raw = args.get("users")
        users = raw if isinstance(raw, list) else str(raw or "").split(",")
        users = [u.strip() for u in users if u and u.strip()]
        if not users:
            channel_id = str(args.get("channel") or "")
            found = self.state.channel(channel_id) if channel_id else None
            if found is None:
                return refused("users_list_not_supplied" if not channel_id else "channel_not_found")
            return ok(channel={"id": found.id})
        if len(users) > 8:
            return refused("too_many_users")
        if any(self.state.user(u) is None for u in users):
            return refused("user_not_found")
        channel = self.state.open_conversation(users)
        return ok(channel={"id": channel.id, "is_im": len(users) == 1})

    def users_info(self, args: Args) -> Response:
        user = self.state.user(str(args.get("user", "")))
        if user is None:
            return refused("user_not_found")
        return ok(user=user.body(self.state.team_id))

    def lookup_by_email(self, args: Args) -> Response:
        user = self.state.user_by_email(str(args.get("email", "")))
        if user is None:
            return refused("users_not_found")
        return ok(user=user.body(self.state.team_id))

    def views_open(self, args: Args) -> Response:
        if not args.get("trigger_id"):
            return refused("invalid_trigger_id")
        view = args.get("view")
        if isinstance(view, str):
            try:
                view = json.loads(view)
            except ValueError:
                return refused("invalid_arguments")
        if not isinstance(view, dict) or view.get("type") != "modal":
            return refused("invalid_arguments")
        opened = {**view, "id": f"V{len(self.state.views) + 1:08d}", "hash": view_hash()}
        self.state.views.append(opened)
        return ok(view=opened)


_METHODS = {
    "auth.test": SlackApi.auth_test,
    "chat.postMessage": SlackApi.post_message,
    "chat.update": SlackApi.update,
    "chat.postEphemeral": SlackApi.post_ephemeral,
    "conversations.open": SlackApi.conversations_open,
    "users.info": SlackApi.users_info,
    "users.lookupByEmail": SlackApi.lookup_by_email,
    "views.open": SlackApi.views_open,
}
# The directory (conversations.list/members, users.list, usergroups.users.list): slack_directory.
_METHODS.update(DIRECTORY_METHODS)
# views.update: slack_views.
_METHODS.update(VIEW_METHODS)


async def _arguments(request: Request) -> Args:
    """Query string, then form or JSON body: Slack accepts arguments in all three."""
    args: Args = dict(request.query_params)
    content_type = request.headers.get("content-type", "")
    if request.method == "POST":
        if content_type.startswith("application/json"):
            body = await request.body()
            if body:
                decoded = json.loads(body)
                if isinstance(decoded, dict):
                    args.update(decoded)
        else:  # a form (parsed here: starlette's form parser needs python-multipart)
            text = (await request.body()).decode("utf-8", errors="replace")
            args.update(parse_qsl(text, keep_blank_values=True))
    return args


def _token(request: Request, args: Args) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    token = args.get("token")
    return str(token) if token else None


class SlackEmulator:
    """The ASGI app: the Web API under ``/api/``, the admin routes under ``/_emulator/``."""

    def __init__(self, state: SlackState | None = None) -> None:
        self.state = state or SlackState()
        self.api = SlackApi(self.state)
        self.calls: Counter[str] = Counter()
        """Web API calls per method, refused ones included."""
        self._app = Starlette(
            routes=[
                Route("/api/{method}", self._web_api, methods=["GET", "POST"]),
                Route("/_emulator/messages", self._messages, methods=["GET", "DELETE"]),
                Route("/_emulator/state", self._state, methods=["GET"]),
                Route("/_emulator/faults", self._faults, methods=["PUT"]),
                Route("/_emulator/front_door", self._front_door, methods=["PUT"]),
                Route("/_emulator/click", self._click, methods=["POST"]),
                Route("/_emulator/command", self._command, methods=["POST"]),
                Route("/_emulator/submit", self._submit, methods=["POST"]),
                Route("/_emulator/suggest", self._suggest, methods=["POST"]),
                Route("/_emulator/act", self._act, methods=["POST"]),
            ]
        )

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self._app(scope, receive, send)

    # --- the Web API --------------------------------------------------------------------------

    async def _web_api(self, request: Request) -> Response:
        method = request.path_params["method"]
        self.calls[method] += 1
        if self.state.down:
            return JSONResponse({"ok": False, "error": "service_unavailable"}, status_code=503)
        fault = await _after_delay(self.state.take_fault(method))
        if fault is not None and fault.kind == "rate_limit":
            return JSONResponse(
                {"ok": False, "error": "ratelimited"},
                status_code=429,
                headers={"Retry-After": str(fault.retry_after)},
            )
        if fault is not None:
            return JSONResponse({"ok": False, "error": "internal_error"}, status_code=fault.status)
        handler = _METHODS.get(method)
        if handler is None:
            return JSONResponse({"ok": False, "error": "unknown_method"}, status_code=404)
        try:
            args = await _arguments(request)
        except ValueError:
            return refused("invalid_json")
        token = _token(request, args)
        if not token:
            return refused("not_authed")
        if token != self.state.bot_token:
            return refused("invalid_auth")
        return handler(self.api, args)

    # --- admin --------------------------------------------------------------------------------

    async def _messages(self, request: Request) -> Response:
        if request.method == "DELETE":
            self.state.messages.clear()
            return Response(status_code=204)
        channel = request.query_params.get("channel")
        shown = [
            m.model_dump(mode="json")
            for m in self.state.messages
            if channel is None or m.channel == channel
        ]
        return JSONResponse({"messages": shown})

    async def _state(self, request: Request) -> Response:
        state = self.state
        return JSONResponse(
            {
                "team_id": state.team_id,
                "front_door_url": state.front_door_url,
                "commands_url": state.commands_url,
                "users": [u.model_dump() for u in state.users],
                "channels": [c.model_dump() for c in state.channels],
                "views": state.views,
                "down": state.down,
                "calls": dict(self.calls),
            }
        )

    async def _faults(self, request: Request) -> Response:
        body = await request.json()
        self.state.down = bool(body.get("down", False))
        self.state.faults = [SlackFault.model_validate(f) for f in body.get("faults", [])]
        return JSONResponse({"down": self.state.down, "faults": len(self.state.faults)})

    async def _front_door(self, request: Request) -> Response:
        body = await request.json()
        self.state.front_door_url = body.get("url") or None
        self.state.commands_url = body.get("commands_url") or None
        return JSONResponse(
            {"front_door_url": self.state.front_door_url, "commands_url": self.state.commands_url}
        )

    def _person(self, reference: str) -> SlackUser:
        user = self.state.user(reference) or self.state.user_by_email(reference)
        if user is None:
            raise ClickError(f"no user {reference!r} in the workspace")
        return user

    async def _click(self, request: Request) -> Response:
        """Play a person clicking a button of a message, as Slack would send it."""
        body = await request.json()
        try:
            user = self._person(str(body.get("user", "")))
            channel = self.state.channel(str(body.get("channel", "")))
            message = self.state.message(channel.id if channel else "", str(body.get("ts", "")))
            if message is None:
                raise ClickError(
                    f"no message {body.get('ts')!r} in channel {body.get('channel')!r}"
                )
            payload = block_actions_payload(self.state, message, str(body.get("action")), user)
        except ClickError as error:
            return JSONResponse({"error": str(error)}, status_code=404)
        return await self._send(interaction_body(payload), body)

    async def _command(self, request: Request) -> Response:
        """Play a person typing a slash command (``/jitflow``)."""
        body = await request.json()
        try:
            user = self._person(str(body.get("user", "")))
        except ClickError as error:
            return JSONResponse({"error": str(error)}, status_code=404)
        form = slash_command_body(
            self.state,
            user,
            str(body.get("command") or "/jitflow"),
            str(body.get("text") or ""),
            str(body.get("channel") or ""),
        )
        answer = await self._send(form, {"url": self.state.commands_url, **body})
        self._record_command_answer(answer, user, str(body.get("channel") or ""))
        return answer

    def _record_command_answer(self, answer: Response, user: SlackUser, channel: str) -> None:
        """Slack shows a slash command's text answer to the person only, in the channel where
        they typed it: recorded as that ephemeral message."""
        sent = json.loads(bytes(answer.body))
        text = str(sent.get("body") or "") if sent.get("status") == 200 else ""
        if not text or not channel:
            return
        self.state.record(
            RecordedMessage(
                channel=channel, ts=self.state.next_ts(), text=text, ephemeral_to=user.id
            )
        )

    async def _submit(self, request: Request) -> Response:
        """Play a person filling in and submitting a modal the app opened."""
        body = await request.json()
        view_id = str(body.get("view_id", ""))
        try:
            view = next((v for v in self.state.views if v.get("id") == view_id), None)
            if view is None:
                raise ClickError(f"no view {view_id!r} was opened")
            user = self._person(str(body.get("user", "")))
            values = {str(k): str(v) for k, v in (body.get("values") or {}).items()}
            payload = view_submission_payload(self.state, view, user, values)
        except ClickError as error:
            return JSONResponse({"error": str(error)}, status_code=404)
        return await self._send(interaction_body(payload), body)

    def _opened_view(self, view_id: str) -> dict[str, Any]:
        view = next((v for v in self.state.views if v.get("id") == view_id), None)
        if view is None:
            raise ClickError(f"no view {view_id!r} was opened")
        return view

    async def _suggest(self, request: Request) -> Response:
        """Play a person typing into a modal's ``external_select``: Slack asks the app for the
        choices; those it answers are kept for the submission."""
        body = await request.json()
        view_id, block_id = str(body.get("view_id", "")), str(body.get("block_id", ""))
        try:
            view = self._opened_view(view_id)
            user = self._person(str(body.get("user", "")))
            typed = str(body.get("value") or "")
            payload = block_suggestion_payload(self.state, view, user, block_id, typed)
        except ClickError as error:
            return JSONResponse({"error": str(error)}, status_code=404)
        answer = await self._send(interaction_body(payload), body)
        sent = json.loads(bytes(answer.body))
        if sent.get("status") == 200:
            try:
                options = json.loads(str(sent.get("body") or "{}")).get("options", [])
            except ValueError:
                options = []
            self.state.suggestions.setdefault(view_id, {})[block_id] = list(options)
        return answer

    async def _act(self, request: Request) -> Response:
        """Play a person changing a modal input that dispatches actions (``on_change``)."""
        body = await request.json()
        try:
            view = self._opened_view(str(body.get("view_id", "")))
            earlier = body.get("view")
            if isinstance(earlier, dict):
                if earlier.get("id") != view.get("id"):
                    raise ClickError(f"the earlier view given is not view {view.get('id')!r}")
                view = earlier
            user = self._person(str(body.get("user", "")))
            values = {str(k): str(v) for k, v in (body.get("values") or {}).items()}
            payload = view_action_payload(
                self.state,
                view,
                user,
                str(body.get("block_id", "")),
                str(body.get("value", "")),
                values,
            )
        except ClickError as error:
            return JSONResponse({"error": str(error)}, status_code=404)
        return await self._send(interaction_body(payload), body)

    async def _send(self, form: str, options: dict[str, Any]) -> Response:
        """POST a signed form to the front door; its status and body come back."""
        url = options.get("url") or self.state.front_door_url
        if not url:
            return JSONResponse(
                {"error": "no front door: PUT /_emulator/front_door"}, status_code=409
            )
        secret = str(options.get("signing_secret") or self.state.signing_secret)
        stamp = int(time.time()) + int(options.get("timestamp_offset") or 0)
        headers = signed_headers(secret, form, timestamp=stamp)
        async with httpx.AsyncClient(timeout=FRONT_DOOR_TIMEOUT_SECONDS) as client:
            try:
                answer = await client.post(str(url), content=form, headers=headers)
            except httpx.HTTPError as error:
                return JSONResponse(
                    {"error": f"the front door did not answer: {type(error).__name__}"},
                    status_code=502,
                )
        return JSONResponse({"status": answer.status_code, "body": answer.text})


async def _after_delay(fault: SlackFault | None) -> SlackFault | None:
    """Wait out a ``delay`` fault (the call is then answered as usual); other faults as given."""
    if fault is None or fault.kind != "delay":
        return fault
    await asyncio.sleep(fault.delay_ms / 1000)
    return None


def create_slack_app(state: SlackState | None = None) -> SlackEmulator:
    """The Slack emulator over ``state`` (an empty workspace without it)."""
    return SlackEmulator(state)
