"""The mailer on this machine, no AWS account: the pieces of AWS around its functions, simulated.

Used by the tests, ``make demo``, ``make local`` and ``bench/`` (it imports nothing from ``tests``):

- ``provision``: moto's tables, queues, buckets, topics and secrets created from the synthesized plan,
  and each function's environment resolved against them;
- ``lambda_events``: the HTTP API v2 events and the Lambda context the services send;
- ``http_api``: API Gateway's HTTP API in front of the real handlers, in-process or on a local port;
- ``event_source``: Lambda's SQS event source (batches, partial failures, redelivery, DLQ);
- ``clock``: one simulated time for the code, moto's SQS and the Lambda contexts' remaining time;
- ``ses``: SES's account limits and a recording, fault-injecting wrapper of moto's SES;
- ``notifications`` and ``sns_signing``: SES notifications as SNS delivers them, signed;
- ``moto_speed``: moto's costs made to follow what a request touches (same answers).
"""
