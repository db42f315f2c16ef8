print("ScimBench: not written yet")
