# The front door: `make run` boots a cluster, `make test` runs every test.
CARGO ?= cargo
DATA_DIR ?= /var/lib/minik8s

.PHONY: build release run test unit e2e lint bench deps images clean

build: deps
	$(CARGO) build

release: deps
	$(CARGO) build --release

## Offline images (pause, busybox, nginx) built from Debian packages, imported by the kubelet.
images:
	./images/build.sh $(DATA_DIR)/agent/images

## Boot the cluster in the foreground (kubeconfig: $(DATA_DIR)/kubeconfig.yaml).
run: release images
	./target/release/minik8s server --data-dir $(DATA_DIR)

## Every test: unit tests of each crate, then end-to-end tests with the real kubectl.
test: deps lint
	$(CARGO) test --workspace --no-fail-fast

deps:
	./scripts/install-deps.sh

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

## Benchmarks: store alone vs through the API, printed as ratios.
bench:
	$(CARGO) bench --bench api -p minik8s

clean:
	$(CARGO) clean
