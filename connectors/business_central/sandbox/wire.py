"""How the Business Central sandbox answers beyond its routes: JSON `$batch`, the shared fault
switches in OData's error shape, and "processed, then timed out" answers. Mixed into the
sandbox app, which provides `self.api`, `self.sets`, `self.lock` and `self.faults`."""

import copy
from urllib.parse import parse_qs, urlsplit

from ...sandboxing.server import Fault, Request, Response
from .odata import ODataError, fault

MAX_BATCH = 100


class WireMixin:
    api_prefix = ""

    # Fault switches (connectors/sandboxing.py) answer the way BC does -----------------------
    def rate_limited_response(self, retry_after: str | None) -> Response:
        return fault(429, retry_after)

    def server_error_response(self, status: int, retry_after: str | None) -> Response:
        return fault(status, retry_after)

    # Processed, then answered with an error ---------------------------------------------------
    def answer_after_commit(self, status: int, *, method: str = "", path: str = "", count: int = 1) -> Fault:
        """The next `count` matching requests are carried out, then answered `status` (BC's 408
        operation timeout and 504 ten-minute limit can land after the work was committed)."""
        rule = Fault(kind="answer_after_commit", count=count, method=method, path=path, status=status)
        with self.lock:
            self.late_answers.append(rule)
        return rule

    def clear_faults(self) -> None:
        super().clear_faults()
        with self.lock:
            self.late_answers.clear()

    def late_answer(self, req: Request, resp: Response) -> Response:
        if resp.status >= 400:
            return resp
        with self.lock:
            rule = next((r for r in self.late_answers if r.matches(req)), None)
            if rule is None:
                return resp
            rule.count -= 1
            if rule.count <= 0:
                self.late_answers.remove(rule)
        return fault(rule.status)

    # $batch -------------------------------------------------------------------------------------
    def batch(self, req: Request) -> Response:
        """OData JSON batch (v4.01 §19): `Isolation: snapshot` makes the whole batch one
        transaction (BC's documented switch); otherwise each `atomicityGroup` (its members
        adjacent, as the format requires) is all or nothing on its own, and a failure in one group
        leaves the other groups' work in place. Inside a failed unit the failing operation answers
        its error and every other one 424 (failed dependency)."""
        if req.method != "POST":
            return self._not_allowed(req.method)
        operations = (req.json() or {}).get("requests", [])
        if len(operations) > MAX_BATCH:
            raise ODataError(400, "BadRequest", f"The batch request contains more than {MAX_BATCH} operations.")
        _groups_adjacent(operations)
        snapshot = req.header("isolation").lower() == "snapshot"
        saved = copy.deepcopy(self.sets) if snapshot else None
        responses: list[dict] = []
        failed = None
        group, group_start, group_saved, group_failed = None, 0, None, None
        for op in operations:
            if op.get("atomicityGroup") != group:
                group, group_start, group_failed = op.get("atomicityGroup"), len(responses), None
                group_saved = self._group_copy(operations, group) if group and not snapshot else None
            if group_failed is not None:
                responses.append(_not_run(op, group_failed))
                continue
            resp = self._run_inner(op)
            responses.append(resp)
            if resp["status"] >= 400 and snapshot:
                failed = op.get("id")
                break
            if resp["status"] >= 400 and group_saved is not None:
                self.sets, group_failed = group_saved, op.get("id")
                responses[group_start:] = [r if r["id"] == group_failed else _rolled_back(r, group_failed)
                                           for r in responses[group_start:]]
        if failed is not None:
            self.sets = saved
            done = {r["id"] for r in responses}
            responses = [r if r["id"] == failed else _rolled_back(r, failed) for r in responses]
            responses += [_not_run(op, failed) for op in operations if op.get("id") not in done]
        return Response(200, {"responses": responses})

    def _run_inner(self, op: dict) -> dict:
        parts = urlsplit(op.get("url", ""))
        prefix = self.api_prefix
        path = parts.path[len(prefix):] if parts.path.startswith(prefix) else parts.path.lstrip("/")
        headers = {k.lower(): v for k, v in (op.get("headers") or {}).items()}
        try:
            resp = self.api(op["method"].upper(), path, parse_qs(parts.query), headers, op.get("body"), None)
        except ODataError as exc:
            resp = exc.response()
        body = resp.body
        if isinstance(body, bytes):
            body = body.decode("utf-8-sig")
        out = {"id": op.get("id"), "status": resp.status, "headers": resp.headers, "body": body}
        if op.get("atomicityGroup"):
            out["atomicityGroup"] = op["atomicityGroup"]
        return out

    def _group_copy(self, operations: list[dict], group: str) -> dict:
        """The state a failed group goes back to. A group that only creates (POSTs, no bound
        action) changes no existing row, so copying the sets' indexes is enough; any other needs the rows too."""
        members = [op for op in operations if op.get("atomicityGroup") == group]
        if all(op.get("method", "").upper() == "POST" and "Microsoft.NAV." not in op.get("url", "") for op in members):
            return {name: dict(rows) for name, rows in self.sets.items()}
        return copy.deepcopy(self.sets)


def _groups_adjacent(operations: list[dict]) -> None:
    seen, current = set(), None
    for op in operations:
        group = op.get("atomicityGroup")
        if group != current:
            if group in seen:
                raise ODataError(400, "BadRequest",
                                 f"The requests of atomicity group '{group}' must be adjacent in the batch.")
            if group:
                seen.add(group)
            current = group


def _rolled_back(resp: dict, failed) -> dict:
    return {**resp, "status": 424, "body": {"error": {"code": "BadRequest",
                                                      "message": f"Rolled back: operation {failed} failed."}}}


def _not_run(op: dict, failed) -> dict:
    out = {"id": op.get("id"), "status": 424, "headers": {}, "body": {"error": {
        "code": "BadRequest", "message": f"Not run: operation {failed} failed."}}}
    if op.get("atomicityGroup"):
        out["atomicityGroup"] = op["atomicityGroup"]
    return out
