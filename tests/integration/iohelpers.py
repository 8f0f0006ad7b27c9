"""Small pieces shared by the test clients (stdlib only): serverproc.SSEStream,
twsclient.TwsClient / AdminClient, wsclient.WS and streamwatch.Listener.

    deadline_after(timeout, default) -> time.monotonic() + timeout (default
        when timeout is None)
    time_left(deadline) -> seconds until deadline, at least 0.001 (a read
        timeout that still times out at once when the deadline has passed)
    close_quietly(*closables) -> .close() on each, OSError ignored
    Closing: mixin, `with obj:` calls obj.close() on exit
    wait_on(cond, pred, timeout, describe) -> waits on a threading.Condition
        until pred() is truthy and returns that value; AssertionError with
        describe() as its message after `timeout` seconds
"""
import time


def deadline_after(timeout, default):
    return time.monotonic() + (default if timeout is None else timeout)


def time_left(deadline):
    return max(0.001, deadline - time.monotonic())


def close_quietly(*closables):
    for c in closables:
        try:
            c.close()
        except OSError:
            pass


class Closing:
    """Context manager: `with X(...) as x:` closes x at the end."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def wait_on(cond, pred, timeout, describe):
    """pred() is evaluated (and describe() called) with `cond` held; the
    thread that changes what pred reads notifies cond. Wakes at least every
    0.2 s."""
    deadline = time.monotonic() + timeout
    with cond:
        while True:
            value = pred()
            if value:
                return value
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(describe())
            cond.wait(min(left, 0.2))
