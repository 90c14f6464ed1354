"""What X-Ray traces inside a function (the Powertools Tracer's ``patch_modules``).

By default the Tracer patches every library the X-Ray SDK knows (requests, sqlite3, httplib, ...),
which imports each of them at cold start although no handler uses them: about a fifth of a cold
start. The functions call AWS through botocore, and verify-email calls the verifier through urllib
(http.client), so only those are traced: every AWS and verifier call still gets its subsegment.
"""

AWS_CALLS = ("botocore",)
AWS_AND_HTTP_CALLS = ("botocore", "httplib")
