# Makefile: every command of the IPC teaching lab; `make help` lists them. The work is done by ./ipclab and common/*.sh.
.DEFAULT_GOAL := help
ROOT := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
BUILD := $(ROOT)/build

# The settings users pass (make check LAB=01 TEST=...) reach the driver through the environment.
export LAB TEST SOLUTIONS LABS_DIR SUBMISSIONS REPORT SANITIZE STRICT ARGS SKIP_SLIDES REPEAT LOAD
export REPEAT_JOBS SECTIONS
export JOBS MUTANTS_SAMPLE MUTANTS_ONLY MUTANTS_ROOT CLASS_OUT FRESH STUDENTS HOSTS HOSTS_ROOT
export N SLUG NAME TITLE LINT_BASE VISIBILITY TRACE WATCH_POLL LEVEL

.PHONY: help check test test-repeat test-fresh mutants run bench bench-class labs format clean test-class-report lint new-lab
help:
	@echo "IPC lab: make targets"
	@echo ""
	@echo "  make check                 grade every lab in labs/; the last line is the result"
	@echo "    LAB=01                   one lab (01, 1 or fork-clone); LAB=01,03 for several"
	@echo "    TEST=name                one test (every failure prints its own re-run command)"
	@echo "    TEST=name TRACE=1        strace the test: blocked calls, who holds the other end, calls per process"
	@echo "    SOLUTIONS=1              grade the reference solutions"
	@echo "    LABS_DIR=path            grade a submission that mirrors labs/ (path/01-fork-clone/...)"
	@echo "    SUBMISSIONS=path         grade a class: every folder in path is one student; writes build/submissions/"
	@echo "                             grades.csv, grades.json, index.html (the class report), feedback per student"
	@echo "      JOBS=N                 students at once (default 8 per core); FRESH=1 re-grades unchanged students too"
	@echo "      HOSTS=h1,h2            spread the students over machines with GNU parallel (ssh)"
	@echo "    SANITIZE=thread          build with ThreadSanitizer (or address, undefined)"
	@echo "    REPORT=file.json         where the JSON report goes (TAP and JUnit XML beside it)"
	@echo "  make watch [LAB=01]        re-grade a lab on every save, one screen; keys h n l r t q (WATCH_POLL=1: poll)"
	@echo "  make hint LAB=01 TEST=name the next hint level of a test (make check shows the levels asked for)"
	@echo "  make progress              your best score, attempts and completion time per lab (build/progress.json)"
	@echo "  make run LAB=01            build and run the lab's demo with your code (SOLUTIONS=1, ARGS=...)"
	@echo "  make bench LAB=04          the lab's benchmark, with ratios measured in the same run"
	@echo "  make bench-class           a generated class of 300 (STUDENTS=N): students per minute, sequential vs parallel"
	@echo "  make labs                  list the labs"
	@echo "  make test                  the self-test: solutions full marks, skeletons and buggy variants lose marks"
	@echo "  make test-repeat           determinism: every solution and variant graded 10 times (REPEAT=N), no verdict may change"
	@echo "    LOAD=1                   with every core kept busy; REPEAT_JOBS=1: the repeats one at a time"
	@echo "  make test-fresh            the README's quick start on a fresh Debian root (debootstrap; root only)"
	@echo "  make mutants               mutation testing: plant small IPC mistakes in each solution, see which the grader misses"
	@echo "    LAB=01 JOBS=3            some labs; parallel gradings (default nproc+1); reports in build/mutants/"
	@echo "    MUTANTS_SAMPLE=40        a deterministic, evenly spread sample of 40 mutants per lab (for CI)"
	@echo "  make slides                render the lecture deck to build/slides/ (offline)"
	@echo "  make test-slides           check the deck in headless Chromium"
	@echo "  make slides-pdf            a PDF handout: every slide, then its speaker notes"
	@echo "  make gradescope            build/gradescope/autograder.zip: a Gradescope autograder (LAB=04 for one assignment)"
	@echo "    VISIBILITY=after_due_date  when students see the tests (visible, hidden, after_due_date, after_published)"
	@echo "  make classroom             build/classroom/.github/workflows/classroom.yml: GitHub Classroom autograding (LAB=04)"
	@echo "  make test-platforms        prove both: the zip in a fresh Debian root standing in for Gradescope, the workflow (root only)"
	@echo "  make format                clang-format every C file"
	@echo "  make lint                  in seconds: layout, lab.conf vs grader.c, Must fail: names, naming, format, copies"
	@echo "    LINT_BASE=origin/main    what counts as the change for the format and copy checks (default HEAD)"
	@echo "  make new-lab N=09 SLUG=shm-ring NAME=ring [TITLE=...]   a new lab in the house shapes, working end to end"
	@echo "  make clean                 remove build/"
	@echo ""
	@echo "make check exits 0 when grading finished, whatever the score, and non-zero only when it"
	@echo "could not grade (bad input, a missing tool). Scripts that need the score in the exit"
	@echo "status run ./ipclab check (0 full marks, 1 below, 2 bad input, 3 internal error)."

# A score below full marks is a result, not a failure of make: only 2 and 3 stop make.
check:
	@$(ROOT)/ipclab check || { rc=$$?; [ $$rc -eq 1 ] || exit $$rc; }

run:
	@$(ROOT)/common/ipclab.sh run

bench:
	@$(ROOT)/common/ipclab.sh bench

bench-class:
	@$(ROOT)/common/bench-class.sh

labs:
	@$(ROOT)/common/ipclab.sh labs

test:
	@$(ROOT)/common/selftest.sh

# Only (a), (c) and (d) of the self-test, each grading repeated; the first run alone, the others
# side by side.
test-repeat:
	@REPEAT=$${REPEAT:-10} SECTIONS=none $(ROOT)/common/selftest.sh

test-fresh:
	@$(ROOT)/common/fresh.sh

mutants:
	@$(ROOT)/common/deps.sh python3=python3-minimal
	@python3 $(ROOT)/common/mutants.py

.PHONY: gradescope classroom test-platforms
gradescope:
	@$(ROOT)/common/gradescope/build.sh

classroom:
	@$(ROOT)/common/classroom.sh workflow

test-platforms:
	@$(ROOT)/common/platforms.sh

format:
	@$(ROOT)/common/deps.sh clang-format=clang-format
	@find $(ROOT)/common $(ROOT)/labs $(ROOT)/solutions $(ROOT)/tests -name '*.[ch]' | xargs clang-format -i

lint:
	@$(ROOT)/common/lint.sh

new-lab:
	@$(ROOT)/common/newlab.sh

clean:
	rm -rf $(BUILD)

.PHONY: watch hint progress
watch:
	@$(ROOT)/common/student.sh watch

hint:
	@$(ROOT)/common/student.sh hint

progress:
	@$(ROOT)/common/student.sh progress

-include $(ROOT)/slides/slides.mk

# The class report (index.html of SUBMISSIONS=...) checked in headless Chromium against its CSV and JSON.
test-class-report: $(SLIDES_NPM) | slides-browser
	node $(ROOT)/common/test-class-report.mjs $(or $(CLASS_OUT),$(BUILD)/submissions)
