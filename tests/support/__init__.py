"""What the tests share, and the benches with them: fakes, builders, servers, readers."""
