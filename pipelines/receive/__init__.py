"""`waba receive`: the live webhook endpoint.

It answers Meta's verification GET, checks every POST's X-Hub-Signature-256, appends each good delivery as
a capture record to an hourly file under <landing>/webhooks/live/ and answers 200 only once the record is on
disk; optionally it passes every delivery on to the business's own app from a durable outbox.
"""
