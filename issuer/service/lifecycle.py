"""When things take effect: the instants the service writes into credentials and into the
trust list, to the second, so that every verifier can order them.

- A credential issued now carries ``now`` truncated to the second. One stated for an earlier
  day (at most ``max_backdate_days`` back) carries the last second of that day in China.
- An event the authority makes now (a suspension, a scope change, a key retired) takes
  effect at the next whole second: every credential issued before it, even within the same
  second, carries an earlier instant. An event may be scheduled for a later date or instant,
  never for an earlier one: that would invalidate certificates issued in between.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from issuer.core.clock import china_date, end_of_china_day, start_of_china_day
from issuer.core.display import date_zh
from issuer.core.errors import InvalidInput
from issuer.core.policy import IssueTime

SECOND = timedelta(seconds=1)
DEFAULT_MAX_BACKDATE_DAYS = 30


def to_second(moment: datetime) -> datetime:
    return moment.replace(microsecond=0)


def issue_time(stated: date | None, now: datetime, *, max_backdate_days: int) -> IssueTime:
    """The instant a credential states: now, or the end of an earlier stated day."""
    today = china_date(now)
    if stated is None or stated == today:
        return IssueTime.at(to_second(now))
    if stated > today:
        raise InvalidInput("future_issue_date", "the issue date is in the future", "发证日期不能晚于今天")
    if (today - stated).days > max_backdate_days:
        raise InvalidInput(
            "issue_date_too_old",
            f"the issue date may lie at most {max_backdate_days} days in the past "
            f"({stated} is {(today - stated).days} days back)",
            f"发证日期最多可早于今天{max_backdate_days}天（{date_zh(stated)}早于今天{(today - stated).days}天）",
            errors={"max_backdate_days": max_backdate_days},
        )
    return IssueTime.at(end_of_china_day(stated) - SECOND)


def effective(requested: date | datetime | None, now: datetime, *, what: str, what_zh: str) -> datetime:
    """The instant an authority's change takes effect. ``None`` or today's date: the next
    whole second; a later date: 00:00 that day in China; an instant: itself (to the
    second), which must not be in the past."""
    next_second = to_second(now) + SECOND
    if requested is None:
        return next_second
    if isinstance(requested, datetime):
        if requested.tzinfo is None:
            raise InvalidInput("invalid_time", f"{what} needs a time zone", f"{what_zh}需要注明时区")
        moment = to_second(requested)
        if moment < to_second(now):
            raise _in_the_past(what, what_zh)
        return max(moment, next_second)
    if requested == china_date(now):
        return next_second
    if requested < china_date(now):
        raise _in_the_past(what, what_zh)
    return start_of_china_day(requested)


def _in_the_past(what: str, what_zh: str) -> InvalidInput:
    return InvalidInput(
        "effective_in_the_past",
        f"{what} cannot take effect in the past: certificates issued since then would turn invalid",
        f"{what_zh}不能追溯到过去生效（否则此后已颁发的证书将变为无效）",
    )
