"""Parses one HL7 v2 message with the PyPI `hl7` package in a loop for a few seconds and
prints messages per second. Arguments: the message file, the number of seconds. Run by
run.sh."""

import sys
import time

import hl7

path, seconds = sys.argv[1], float(sys.argv[2] if len(sys.argv) > 2 else 5)
with open(path, "rb") as f:
    text = f.read().decode("utf-8")

# Sanity check: the parse must see the 10 OBX segments.
parsed_once = hl7.parse(text)
obx = sum(1 for segment in parsed_once if str(segment[0]) == "OBX")
if obx != 10:
    raise SystemExit(f"expected 10 OBX, parsed {obx}")

parsed = 0
start = time.perf_counter()
deadline = start + seconds
now = start
while now < deadline:
    for _ in range(100):
        hl7.parse(text)
    parsed += 100
    now = time.perf_counter()
print(f"python_hl7_parse msg/s {round(parsed / (now - start))}")
