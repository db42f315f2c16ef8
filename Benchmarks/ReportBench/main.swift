print("ReportBench")
