print("PlanBench: not written yet")
