print("BrowserBench: not written yet")
