"""Due-step indexes: a Redis sorted set, and an in-process one for the embedded set-up."""

from __future__ import annotations

import threading

import redis

from application.follower import PositionMoved
from application.ports import DueSchedule

# Apply a batch of changes and move the position, only if the position is what the feeder read.
APPLY = """
local cur = redis.call('GET', KEYS[2])
if not cur then cur = '0' end
if cur ~= ARGV[1] then return redis.error_reply('POSITION_MOVED ' .. cur) end
for i = 3, #ARGV, 2 do
  if ARGV[i + 1] == '' then
    redis.call('ZREM', KEYS[1], ARGV[i])
  else
    redis.call('ZADD', KEYS[1], ARGV[i + 1], ARGV[i])
  end
end
redis.call('SET', KEYS[2], ARGV[2])
return 1
"""

# Take due members and lease them: their score becomes the lease expiry, so a member whose
# dispatch is lost comes back by itself; the log moves or removes it once the step is done.
CLAIM = """
local items = redis.call('ZRANGE', KEYS[1], '-inf', ARGV[1], 'BYSCORE', 'LIMIT', 0, ARGV[2])
local lease = tonumber(ARGV[1]) + tonumber(ARGV[3])
for _, m in ipairs(items) do redis.call('ZADD', KEYS[1], 'XX', lease, m) end
return items
"""


class RedisDueSchedule(DueSchedule):
    def __init__(self, client: redis.Redis, prefix: str = "followup") -> None:
        self.client = client
        self.due_key = f"{{{prefix}}}:due"
        self.position_key = f"{{{prefix}}}:due:position"
        self._apply = client.register_script(APPLY)
        self._claim = client.register_script(CLAIM)

    def position(self) -> int:
        found = self.client.get(self.position_key)
        return int(found) if found else 0

    def apply(self, changes: list[tuple[str, int | None]], expected: int, position: int) -> None:
        args: list[str | int] = [expected, position]
        for member, score in changes:
            args += [member, "" if score is None else score]
        try:
            self._apply(keys=[self.due_key, self.position_key], args=args)
        except redis.ResponseError as e:
            if "POSITION_MOVED" in str(e):
                raise PositionMoved(str(e)) from None
            raise

    def claim(self, now_ms: int, limit: int, lease_ms: int) -> list[str]:
        found = self._claim(keys=[self.due_key], args=[now_ms, limit, lease_ms])
        return [m.decode() if isinstance(m, bytes) else m for m in found]

    def due_at(self, member: str) -> int | None:
        found = self.client.zscore(self.due_key, member)
        return None if found is None else int(found)

    def size(self) -> int:
        return int(self.client.zcard(self.due_key))


class MemoryDueSchedule(DueSchedule):
    """The same contract in process memory; rebuilt from the log at every start."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._scores: dict[str, int] = {}
        self._position = 0

    def position(self) -> int:
        return self._position

    def apply(self, changes: list[tuple[str, int | None]], expected: int, position: int) -> None:
        with self._lock:
            if self._position != expected:
                raise PositionMoved(f"at {self._position}, not {expected}")
            for member, score in changes:
                if score is None:
                    self._scores.pop(member, None)
                else:
                    self._scores[member] = score
            self._position = position

    def claim(self, now_ms: int, limit: int, lease_ms: int) -> list[str]:
        with self._lock:
            due = sorted((s, m) for m, s in self._scores.items() if s <= now_ms)[:limit]
            for _, member in due:
                self._scores[member] = now_ms + lease_ms
            return [m for _, m in due]

    def due_at(self, member: str) -> int | None:
        return self._scores.get(member)

    def size(self) -> int:
        return len(self._scores)
