"""Due-step indexes: a Redis sorted set, and an in-process one for the embedded set-up."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import redis

from application.follower import PositionMoved
from application.ports import DueChange, DueSchedule
from domain.priority import LANES

# Apply a batch of changes and move the position, only if the position is what the feeder read.
# KEYS: the position, one sorted set per lane, then the hash of offered members (member: the log
# position of the change the offer made). ARGV: expected position, new position, then (member,
# due ms or '' to remove, lane, the change's log position or '') quadruples. A member lives in at
# most one lane; a change an offer already made is left as it is (a claim may have leased it).
APPLY = """
local cur = redis.call('GET', KEYS[1])
if not cur then cur = '0' end
if cur ~= ARGV[1] then return redis.error_reply('POSITION_MOVED ' .. cur) end
local offered = KEYS[#KEYS]
for i = 3, #ARGV, 4 do
  local made = false
  if ARGV[i + 3] ~= '' then
    local at = redis.call('HGET', offered, ARGV[i])
    if at then
      redis.call('HDEL', offered, ARGV[i])
      made = (at == ARGV[i + 3])
    end
  end
  if not made then
    local target = tonumber(ARGV[i + 2]) + 2
    for k = 2, #KEYS - 1 do
      if ARGV[i + 1] == '' or k ~= target then redis.call('ZREM', KEYS[k], ARGV[i]) end
    end
    if ARGV[i + 1] ~= '' then redis.call('ZADD', KEYS[target], ARGV[i + 1], ARGV[i]) end
  end
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
# schedules it and no lane holds it; remember which change it made. KEYS: the position, the lanes,
# the hash of offered members. ARGV: that change's position, member, due ms, lane.
OFFER = """
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
if cur >= tonumber(ARGV[1]) then return 0 end
for k = 2, #KEYS - 1 do
  if redis.call('ZSCORE', KEYS[k], ARGV[2]) then return 0 end
end
redis.call('ZADD', KEYS[tonumber(ARGV[4]) + 2], ARGV[3], ARGV[2])
redis.call('HSET', KEYS[#KEYS], ARGV[2], ARGV[1])
return 1
"""


class RedisDueSchedule(DueSchedule):
    def __init__(self, client: redis.Redis, prefix: str = "followup") -> None:
        self.client = client
        self.lane_keys = [f"{{{prefix}}}:due:lane{i}" for i in range(LANES)]
        self.position_key = f"{{{prefix}}}:due:position"
        self.offered_key = f"{{{prefix}}}:due:offered"
        self._apply = client.register_script(APPLY)
        self._claim = client.register_script(CLAIM)
        self._offer = client.register_script(OFFER)

    def position(self) -> int:
        found = self.client.get(self.position_key)
        return int(found) if found else 0

    def apply(self, changes: list[DueChange], expected: int, position: int,
              at: Sequence[int | None] | None = None) -> None:
        args: list[str | int] = [expected, position]
        for i, (member, score, lane) in enumerate(changes):
            offered = None if at is None else at[i]
            args += [member, "" if score is None else score, lane,
                     "" if offered is None else offered]
        try:
            self._apply(keys=[self.position_key, *self.lane_keys, self.offered_key], args=args)
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
        added = self._offer(keys=[self.position_key, *self.lane_keys, self.offered_key],
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
        self.client.delete(self.position_key, *self.lane_keys, self.offered_key)


class MemoryDueSchedule(DueSchedule):
    """The same contract in process memory; empty at every start, then restored by the feeder
    (from the due_steps read model, and the log after it)."""

    lost_when_empty = False

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._scores: dict[str, tuple[int, int]] = {}  # member: (lane, due ms)
        self._offered: dict[str, int] = {}  # member: the position of the change an offer made
        self._position = 0

    def position(self) -> int:
        return self._position

    def apply(self, changes: list[DueChange], expected: int, position: int,
              at: Sequence[int | None] | None = None) -> None:
        with self._lock:
            if self._position != expected:
                raise PositionMoved(f"at {self._position}, not {expected}")
            for i, (member, score, lane) in enumerate(changes):
                offered = None if at is None else at[i]
                if offered is not None and self._offered.pop(member, None) == offered:
                    continue
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
            self._offered[member] = position
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
            self._offered.clear()
            self._position = 0
