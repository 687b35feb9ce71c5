# Top-level entry point: every user-facing command of the IPC teaching lab (see `make help`).
.DEFAULT_GOAL := help
ROOT := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
BUILD := $(ROOT)/build

.PHONY: help
help:
	@echo "IPC lab: make targets"
	@echo "  make check            grade every lab in labs/ (LAB=NN, TEST=name, SOLUTIONS=1, LABS_DIR=path)"
	@echo "  make test             the suite's self-test (solutions full marks, skeletons and buggy variants lose marks)"
	@echo "  make slides           render the lecture deck to build/slides/"

-include $(ROOT)/slides/slides.mk
