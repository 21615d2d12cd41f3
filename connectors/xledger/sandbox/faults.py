"""The Xledger sandbox's limits and fault switches, in Xledger's own answer shapes (C8 of
../shared/vendor-apis/xledger.md): application errors are HTTP 200 with `errors[]` whose entries
carry a top-level `code` next to `message`, and `data: null`.

The shared fault kinds of `connectors.sandboxing` are answered the same way:
* `rate_limit` without a Retry-After is what Xledger documents: HTTP 200,
  `BAD_REQUEST.BURST_RATE_LIMIT_REACHED`, exactly the answer the sandbox's own burst limit gives.
  With a Retry-After the fault stands for an HTTP-level 429 from the gateway in front of the API
  (the contract: not observed in public clients, retried generically by grasp-labs' HTTP layer);
  the body is still Xledger's error shape, and the contract suite relies on that status.
* `server_error` is the HTTP status asked for, with the error in Xledger's shape.

Switches only this sandbox has (besides `burst_limit`, `credits`, `graphql_errors`,
`fail_imports`): `answers_after_commit` (the next mutations run, then answer with a 5xx or a
"timed out" error instead of their result) and `partial_writes` (the next `addGLImportItems`
stores all inputs but the last and answers with both `data` and `errors`).
"""

from collections import deque
from datetime import date

from ...sandboxing.server import Request, Response

SERVER_ERROR_CODE = "INTERNAL_SERVER_ERROR"
TIMED_OUT = "The request timed out while executing. Narrow the query or try again later."


def app_error(code: str, message: str, status: int = 200, headers: dict | None = None, **extensions) -> Response:
    return Response(status, {"errors": [{"message": message, "code": code, "extensions": extensions}], "data": None},
                    headers or {})


def burst_error(count: int, seconds: float, **kw) -> Response:
    return app_error("BAD_REQUEST.BURST_RATE_LIMIT_REACHED",
                     f"Burst limit reached: at most {count} requests per {seconds:g} seconds.", **kw)


class XledgerFaults:
    """Mixed into `XledgerSandbox` (which owns `lock`, `recent`, `burst_limit`, `credits`, …)."""

    def faults_reset(self) -> None:
        self.forced_errors: list[str] = []
        self.failing_imports: list[str] = []     # the import job refuses the next vouchers, with these messages
        self.answers_after_commit: list[dict] = []
        self.partial_writes = 0
        self.extra_errors: list[dict] = []       # errors a resolver adds next to its data (partial answers)

    # Shared fault kinds, answered Xledger's way ----------------------------------------------
    def rate_limited_response(self, retry_after: str | None) -> Response:
        count, seconds = self.burst_limit or (20, 5.0)
        if retry_after is None:
            return burst_error(count, seconds)
        return burst_error(count, seconds, status=429, headers={"Retry-After": str(retry_after)})

    def server_error_response(self, status: int, retry_after: str | None) -> Response:
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        return app_error(SERVER_ERROR_CODE, "An unexpected error occurred. Please try again later.",
                         status=status, headers=headers)

    def fail_next_imports(self, *messages: str) -> None:
        with self.lock:
            self.failing_imports += list(messages)

    def control(self, req: Request) -> Response:
        """Adds `POST /__sandbox__/xledger` {"burst_limit": [n, seconds] | null, "credits": n | null,
        "graphql_errors": ["BAD_REQUEST.CONCURRENCY_LIMIT_REACHED", …], "fail_imports": ["Period is
        closed", …], "answers_after_commit": [{"status": 504} | {"message": "…timed out…"}],
        "partial_writes": n, "lookup_filters": bool} to the shared switches. `fail_imports` makes
        the import job refuse the next vouchers (one message each) after `addGLImportItems` has
        accepted them; `lookup_filters` exposes the [INF] reference filters (sandbox.py)."""
        if req.method == "POST" and req.path.rstrip("/").endswith("/xledger"):
            body = req.json() or {}
            with self.lock:
                if "burst_limit" in body:
                    self.burst_limit = tuple(body["burst_limit"]) if body["burst_limit"] else None
                if "credits" in body:
                    self.credits = body["credits"]
                if "lookup_filters" in body:
                    self.use_lookup_filters(bool(body["lookup_filters"]))
                self.forced_errors += body.get("graphql_errors", [])
                self.failing_imports += body.get("fail_imports", [])
                self.answers_after_commit += body.get("answers_after_commit", [])
                self.partial_writes += int(body.get("partial_writes", 0))
            return Response(200, {"burst_limit": self.burst_limit, "credits": self.credits,
                                  "requests_by_month": self.requests_by_month})
        return super().control(req)

    # Limits and faults on the GraphQL endpoint ---------------------------------------------
    def limits_check(self, token: str, now: float) -> Response | None:
        if self.forced_errors:
            code = self.forced_errors.pop(0)
            return app_error(code, f"{code.split('.')[-1].replace('_', ' ').capitalize()}.",
                             resetAt="2026-12-01T00:00:00Z")
        if self.burst_limit:
            count, seconds = self.burst_limit
            window = self.recent.setdefault(token, deque())
            while window and now - window[0] > seconds:
                window.popleft()
            if len(window) >= count:
                return burst_error(count, seconds)
            window.append(now)
        if self.credits is not None:
            if self.credits <= 0:
                first = date.today().replace(day=1)
                reset = date(first.year + first.month // 12, first.month % 12 + 1, 1)
                return app_error("BAD_REQUEST.INSUFFICIENT_CREDITS", "Insufficient credits for this request.",
                                 resetAt=f"{reset.isoformat()}T00:00:00Z")
            self.credits -= 1
        return None

    def after_commit(self, body: dict, mutation: bool) -> Response | None:
        """A mutation that ran but whose answer is an error: what a caller cannot tell from one
        that never ran. Errors a resolver added to a partial answer join its `errors[]` here."""
        if self.extra_errors:
            body.setdefault("errors", []).extend(self.extra_errors)
            self.extra_errors = []
        if not (mutation and self.answers_after_commit):
            return None
        answer = self.answers_after_commit.pop(0)
        if answer.get("status"):
            return self.server_error_response(int(answer["status"]), None)
        return app_error(answer.get("code", ""), answer.get("message") or TIMED_OUT)

    def partial_take(self) -> bool:
        if self.partial_writes <= 0:
            return False
        self.partial_writes -= 1
        return True
