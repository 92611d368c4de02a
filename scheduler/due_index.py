"""Due-step indexes: a Redis sorted set, and an in-process one for the embedded set-up."""

from __future__ import annotations

import threading

import redis

from application.follower import PositionMoved
from application.ports import DueChange, DueSchedule
from domain.priority import LANES

# Apply a batch of changes and move the position, only if the position is what the feeder read.
# KEYS: the position, then one sorted set per lane. ARGV: expected position, new position, then
# (member, due ms or '' to remove, lane) triples. A member lives in at most one lane.
APPLY = """
local cur = redis.call('GET', KEYS[1])
if not cur then cur = '0' end
if cur ~= ARGV[1] then return redis.error_reply('POSITION_MOVED ' .. cur) end
for i = 3, #ARGV, 3 do
  local target = tonumber(ARGV[i + 2]) + 2
  for k = 2, #KEYS do
    if ARGV[i + 1] == '' or k ~= target then redis.call('ZREM', KEYS[k], ARGV[i]) end
  end
  if ARGV[i + 1] ~= '' then redis.call('ZADD', KEYS[target], ARGV[i + 1], ARGV[i]) end
end
redis.call('SET', KEYS[1], ARGV[2])
return 1
"""

# Take due members, higher lanes first, and lease them: their score becomes the lease expiry, so
# a member whose dispatch is lost comes back by itself; the log moves or removes it once the step
# is done. KEYS: the lanes. ARGV: now ms, limit, lease ms.
CLAIM = """
local taken = {}
local lease = tonumber(ARGV[1]) + tonumber(ARGV[3])
local left = tonumber(ARGV[2])
for k = 1, #KEYS do
  if left <= 0 then break end
  local items = redis.call('ZRANGE', KEYS[k], '-inf', ARGV[1], 'BYSCORE', 'LIMIT', 0, left)
  for _, m in ipairs(items) do
    redis.call('ZADD', KEYS[k], 'XX', lease, m)
    taken[#taken + 1] = m
  end
  left = left - #items
end
return taken
"""


# Add a member ahead of the feeder, only if the index has not followed the log to the change that
# schedules it and no lane holds it. KEYS: the position, then the lanes. ARGV: that change's
# position, member, due ms, lane.
OFFER = """
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
if cur >= tonumber(ARGV[1]) then return 0 end
for k = 2, #KEYS do
  if redis.call('ZSCORE', KEYS[k], ARGV[2]) then return 0 end
end
redis.call('ZADD', KEYS[tonumber(ARGV[4]) + 2], ARGV[3], ARGV[2])
return 1
"""


class RedisDueSchedule(DueSchedule):
    def __init__(self, client: redis.Redis, prefix: str = "followup") -> None:
        self.client = client
        self.lane_keys = [f"{{{prefix}}}:due:lane{i}" for i in range(LANES)]
        self.position_key = f"{{{prefix}}}:due:position"
        self._apply = client.register_script(APPLY)
        self._claim = client.register_script(CLAIM)
        self._offer = client.register_script(OFFER)

    def position(self) -> int:
        found = self.client.get(self.position_key)
        return int(found) if found else 0

    def apply(self, changes: list[DueChange], expected: int, position: int) -> None:
        args: list[str | int] = [expected, position]
        for member, score, lane in changes:
            args += [member, "" if score is None else score, lane]
        try:
            self._apply(keys=[self.position_key, *self.lane_keys], args=args)
        except redis.ResponseError as e:
            if "POSITION_MOVED" in str(e):
                raise PositionMoved(str(e)) from None
            raise

    def claim(self, now_ms: int, limit: int, lease_ms: int,
              lanes: range = range(LANES)) -> list[str]:
        found = self._claim(keys=self.lane_keys[lanes.start:lanes.stop],
                            args=[now_ms, limit, lease_ms])
        return [m.decode() if isinstance(m, bytes) else m for m in found]

    def offer(self, member: str, due_ms: int, lane: int, position: int) -> bool:
        added = self._offer(keys=[self.position_key, *self.lane_keys],
                            args=[position, member, due_ms, lane])
        return bool(added)

    def due_at(self, member: str) -> int | None:
        pipe = self.client.pipeline(transaction=False)
        for key in self.lane_keys:
            pipe.zscore(key, member)
        found = [s for s in pipe.execute() if s is not None]
        return int(found[0]) if found else None

    def size(self) -> int:
        pipe = self.client.pipeline(transaction=False)
        for key in self.lane_keys:
            pipe.zcard(key)
        return sum(int(n) for n in pipe.execute())

    def memory_bytes(self) -> int:
        """What the lanes take in Redis (MEMORY USAGE, every element sampled)."""
        return sum(int(self.client.memory_usage(key, samples=0) or 0) for key in self.lane_keys)

    def forget(self) -> None:
        """Delete the index and its position, as a FLUSHALL would."""
        self.client.delete(self.position_key, *self.lane_keys)


class MemoryDueSchedule(DueSchedule):
    """The same contract in process memory; empty at every start, then restored by the feeder
    (from the due_steps read model, and the log after it)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._scores: dict[str, tuple[int, int]] = {}  # member: (lane, due ms)
        self._position = 0

    def position(self) -> int:
        return self._position

    def apply(self, changes: list[DueChange], expected: int, position: int) -> None:
        with self._lock:
            if self._position != expected:
                raise PositionMoved(f"at {self._position}, not {expected}")
            for member, score, lane in changes:
                if score is None:
                    self._scores.pop(member, None)
                else:
                    self._scores[member] = (lane, score)
            self._position = position

    def claim(self, now_ms: int, limit: int, lease_ms: int,
              lanes: range = range(LANES)) -> list[str]:
        with self._lock:
            due = sorted((lane, s, m) for m, (lane, s) in self._scores.items()
                         if s <= now_ms and lane in lanes)[:limit]
            for lane, _, member in due:
                self._scores[member] = (lane, now_ms + lease_ms)
            return [m for _, _, m in due]

    def offer(self, member: str, due_ms: int, lane: int, position: int) -> bool:
        with self._lock:
            if self._position >= position or member in self._scores:
                return False
            self._scores[member] = (lane, due_ms)
            return True

    def due_at(self, member: str) -> int | None:
        found = self._scores.get(member)
        return None if found is None else found[1]

    def size(self) -> int:
        return len(self._scores)

    def forget(self) -> None:
        """Lose everything, as a process restart does."""
        with self._lock:
            self._scores.clear()
            self._position = 0
