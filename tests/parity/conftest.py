def pytest_configure(config):
    config.addinivalue_line("markers", "slow: heavier parity variants (more random flows), off by default")
