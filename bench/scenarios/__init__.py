"""One module per benchmark scenario; each has `run(h)` taking the shared `harness.Harness`."""
