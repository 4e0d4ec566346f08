.PHONY: run test lint bench bench-reports demo
run:    ## set up and serve on 127.0.0.1:5000
	bash scripts/run
test:   ## set up and run every test
	bash scripts/test
lint:
	.venv/bin/ruff check --no-cache . && .venv/bin/ruff format --no-cache --check .
bench:  ## the map benchmark at 100,000 villages (writes bench/README.md figures to stdout)
	.venv/bin/python bench/map_bench.py
bench-reports:  ## the report benchmark: both atlases, a county and a measure report
	.venv/bin/python bench/report_bench.py
demo:   ## regenerate the shipped demo data
	.venv/bin/python -m layers.demo
