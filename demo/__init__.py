"""Demo data: the seed case No. 120 and a user for every role. It spans every app, so it sits
above them all and nothing imports it but its command and the tests."""
