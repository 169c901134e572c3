"""Property test of the session state machine in tokens.services (hypothesis, stateful).

Random sequences of login / refresh / reuse within the interval / replay of an older
token / logout / logout-all / purge / time passing / a password changed outside the API
/ a login that checked the old password run against the services and a plain model of
what the contract promises. After every step the database must agree with the model.
The properties: a revoked (or expired, or purged) session never refreshes again; a live
one always does; a replay always kills its session; a retry within the reuse interval
gets the very same successor; a password change ends every session opened before it,
and a login that checked the old password writes no session.
"""

import datetime as dt
import uuid
from dataclasses import dataclass, field

import pytest
from django.contrib.auth import get_user_model
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    invariant,
    rule,
    run_state_machine_as_test,
)

from tokens import maintenance, services
from tokens.errors import BadCredentials, NotLoggedIn, RefreshTokenInvalid
from tokens.models import RefreshToken

IDLE = dt.timedelta(hours=1)
ABSOLUTE = dt.timedelta(hours=3)
REUSE = dt.timedelta(seconds=10)
START = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
# Steps of time that land before, on and after each boundary (reuse, idle, absolute).
STEPS = [dt.timedelta(seconds=s) for s in (1, 9, 10, 11, 1800, 3599, 3600, 3601, 7200)]


@dataclass
class Session:
    """What the contract says about one session."""

    id: uuid.UUID
    created_at: dt.datetime
    last_used_at: dt.datetime
    tokens: list[str] = field(default_factory=list)  # by generation, oldest first
    rotated_at: dt.datetime | None = None
    revoked: bool = False
    purged: bool = False

    def expires_at(self) -> dt.datetime:
        return min(self.last_used_at + IDLE, self.created_at + ABSOLUTE)

    def live(self, now: dt.datetime) -> bool:
        return not (self.revoked or self.purged) and now < self.expires_at()


class SessionMachine(RuleBasedStateMachine):
    sessions = Bundle("sessions")

    def __init__(self) -> None:
        super().__init__()
        user_model = get_user_model()
        self.user = user_model._default_manager.create_user(
            **{user_model.USERNAME_FIELD: f"{uuid.uuid4().hex}@example.com"}
        )
        # The user as a login that checked the previous password saw it (None before
        # any change): its session is written after the change committed.
        self.before_change = None
        self.now = START
        self.model: dict[uuid.UUID, Session] = {}

    @rule(target=sessions)
    def login(self):
        issued = services.start_session(self.user, now=self.now)
        session = Session(issued.session.id, self.now, self.now, [issued.refresh_token])
        self.model[session.id] = session
        return session

    @rule()
    def login_that_checked_the_old_password(self):
        if self.before_change is None:
            return
        count = RefreshToken.objects.count()
        with pytest.raises(BadCredentials):  # the password it checked is gone
            services.start_session(self.before_change, now=self.now)
        assert RefreshToken.objects.count() == count

    @rule()
    def password_changed_outside_the_api(self):
        """set_password() + save(), as the admin form, changepassword or a shell do."""
        self.before_change = get_user_model()._default_manager.get(pk=self.user.pk)
        self.user.set_password(uuid.uuid4().hex)
        self.user.save()
        for session in self.model.values():
            session.revoked = True

    @rule(step=st.sampled_from(STEPS))
    def time_passes(self, step):
        self.now += step

    @rule(session=sessions)
    def refresh_with_the_current_token(self, session):
        if not session.live(self.now):
            with pytest.raises(RefreshTokenInvalid):
                services.refresh(session.tokens[-1], now=self.now)
            return
        issued = services.refresh(session.tokens[-1], now=self.now)  # a live one always does
        assert issued.refresh_token not in session.tokens
        session.tokens.append(issued.refresh_token)
        session.last_used_at = session.rotated_at = self.now

    @rule(session=sessions)
    def retry_with_the_predecessor(self, session):
        if len(session.tokens) < 2:
            return
        within = session.rotated_at is not None and self.now - session.rotated_at <= REUSE
        if session.live(self.now) and within:
            issued = services.refresh(session.tokens[-2], now=self.now)
            assert issued.refresh_token == session.tokens[-1]  # the same successor
            return
        with pytest.raises(RefreshTokenInvalid):
            services.refresh(session.tokens[-2], now=self.now)
        if session.live(self.now):
            session.revoked = True  # a replay after the interval kills the session

    @rule(session=sessions, data=st.data())
    def replay_an_older_token(self, session, data):
        if len(session.tokens) < 3:
            return
        old = data.draw(st.sampled_from(session.tokens[:-2]))
        with pytest.raises(RefreshTokenInvalid):
            services.refresh(old, now=self.now)
        session.revoked = True  # whether it was live or not, it is not live now

    @rule(session=consumes(sessions))
    def logout(self, session):
        if session.live(self.now):
            services.logout(refresh_token=session.tokens[-1], now=self.now)
            session.revoked = True
        else:
            with pytest.raises(NotLoggedIn):
                services.logout(refresh_token=session.tokens[-1], now=self.now)

    @rule()
    def logout_all(self):
        live = [s for s in self.model.values() if s.live(self.now)]
        revoked = services.logout_all(self.user, now=self.now)
        assert revoked == len(live)
        for session in live:
            session.revoked = True

    @rule()
    def purge(self):
        expired = [s for s in self.model.values() if not s.purged and self.now >= s.expires_at()]
        assert maintenance.purge_expired(now=self.now) == len(expired)
        for session in expired:
            session.purged = True

    def teardown(self):
        # Each run has its own user; removing it (and its sessions) leaves the next run
        # a table where every row is its own, so purge counts are exact.
        self.user.delete()

    @invariant()
    def the_database_agrees_with_the_model(self):
        live_ids = {s.id for s in services.live_sessions(self.user, now=self.now, limit=None)}
        assert live_ids == {s.id for s in self.model.values() if s.live(self.now)}


@pytest.mark.django_db
def test_session_state_machine(settings):
    settings.TOKENS = {
        **settings.TOKENS,
        "REFRESH_TOKEN_LIFETIME": IDLE,
        "REFRESH_TOKEN_ABSOLUTE_LIFETIME": ABSOLUTE,
        "REFRESH_TOKEN_REUSE_INTERVAL": REUSE,
        "REFRESH_TOKEN_ROTATE": True,
        "SESSIONS_PER_USER_LIMIT": 0,
    }
    run_state_machine_as_test(
        SessionMachine,
        settings=hypothesis_settings(
            max_examples=60,
            stateful_step_count=30,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
