"""Speed, same answers.

moto lists its own package directory (a stat per service, ~180 per request) to route every request,
and lists a responses class's methods (inspect.getmembers) for every call; both are computed once
here: moto's package does not change while it runs. A third of moto's time per call went to them. The
server's line per request on stderr is left out unless ORGMFA_EMULATOR_LOG=1 (errors are still
logged).
"""

import os

from moto import backends as moto_backends
from moto.core import responses as moto_responses
from werkzeug.serving import WSGIRequestHandler

_method_names_of = moto_responses.method_names_from_class
_METHOD_NAMES = {}


def _method_names_once(clazz):
    names = _METHOD_NAMES.get(clazz)
    if names is None:
        names = _METHOD_NAMES[clazz] = tuple(_method_names_of(clazz))
    return list(names)


def apply():
    modules = tuple(moto_backends.list_of_moto_modules())
    moto_backends.list_of_moto_modules = lambda: modules
    moto_responses.method_names_from_class = _method_names_once
    if os.environ.get("ORGMFA_EMULATOR_LOG") != "1":
        WSGIRequestHandler.log_request = lambda self, code="-", size="-": None
