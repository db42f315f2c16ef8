print("SandboxBench: not written yet")
