# slides/slides.mk: build and browser-test the lecture deck.
# Included by the top-level Makefile, which defines ROOT (repository root) and BUILD.
#
#   make slides        build/slides/ipc.html (+ reveal.js copy beside it) and
#                      build/slides/ipc-standalone.html (one self-contained file)
#   make test-slides   build, then walk every slide in headless Chromium from the file system
#   make slides-pdf    build/slides/ipc-handout.pdf: every slide, then a page with its speaker
#                      notes, printed by headless Chromium; then checked (page count, no blank
#                      page, deck order) with poppler's pdfinfo/pdftotext
#   make clean-slides  remove build/slides
#
# The deck is rebuilt on every `make slides`: lab code is pulled into it by
# slides/filters/include-code.lua, and a lab file that moved or lost a function
# must fail the build even when no slide source changed.

SLIDES_SRC   := $(ROOT)/slides
SLIDES_OUT   := $(BUILD)/slides
SLIDES_MD    := $(sort $(wildcard $(SLIDES_SRC)/md/*.md))
SLIDES_DOT   := $(sort $(wildcard $(SLIDES_SRC)/diagrams/*.dot))
SLIDES_SVG   := $(patsubst $(SLIDES_SRC)/diagrams/%.dot,$(SLIDES_OUT)/diagrams/%.svg,$(SLIDES_DOT))
# npm ci writes this file last: its presence means node_modules is complete.
SLIDES_NPM   := $(SLIDES_SRC)/node_modules/.package-lock.json
SLIDES_REVEAL_STAMP := $(SLIDES_OUT)/reveal.js/.copied
# The code font travels with the deck (ipc.css loads it from fonts/), so code lines are as
# wide on a presenter's Mac or Windows laptop as where the test measured them. It comes from
# Debian's fonts-dejavu-core at build time; nothing binary is kept in the repository.
SLIDES_FONT_DIR := /usr/share/fonts/truetype/dejavu
SLIDES_FONTS := DejaVuSansMono.ttf DejaVuSansMono-Bold.ttf DejaVuSansMono-Oblique.ttf

SLIDES_PANDOC_FLAGS := --from=markdown-implicit_figures --to=revealjs --standalone --slide-level=2 \
  --lua-filter=$(SLIDES_SRC)/filters/include-code.lua \
  --highlight-style=tango \
  --css=ipc.css \
  -V revealjs-url=reveal.js -V theme=white \
  -V navigationMode=linear -V slideNumber="'c/t'" -V hash=true -V center=false \
  -V transition=none -V width=1280 -V height=720 -V margin=0.02

.PHONY: slides test-slides slides-pdf clean-slides slides-tools slides-browser slides-pdf-tools

# Tools from Debian, through the shared installer (apt-get as root, else it prints the command).
slides-tools:
	@$(ROOT)/common/deps.sh pandoc=pandoc dot=graphviz node=nodejs npm=npm \
	  file:$(SLIDES_FONT_DIR)/DejaVuSansMono.ttf=fonts-dejavu-core \
	  file:$(SLIDES_FONT_DIR)/DejaVuSansMono-Oblique.ttf=fonts-dejavu-extra

# After slides-tools, never beside it: two apt-get runs at once would fight over the dpkg lock.
slides-browser: | slides-tools
	@$(ROOT)/common/deps.sh chromium=chromium

# pdfinfo and pdftotext, to check the handout; after slides-browser for the same reason.
slides-pdf-tools: | slides-browser
	@$(ROOT)/common/deps.sh pdfinfo=poppler-utils pdftotext=poppler-utils

$(SLIDES_NPM): $(SLIDES_SRC)/package.json $(SLIDES_SRC)/package-lock.json | slides-tools
	cd $(SLIDES_SRC) && npm ci --no-audit --no-fund --loglevel=error

$(SLIDES_OUT)/diagrams/%.svg: $(SLIDES_SRC)/diagrams/%.dot | slides-tools
	@mkdir -p $(@D)
	@echo "  DOT     diagrams/$*.svg"
	@dot -Tsvg $< -o $@.tmp && mv $@.tmp $@

# A local copy of reveal.js's dist/ and plugin/ beside ipc.html: no CDN, works from file://.
$(SLIDES_REVEAL_STAMP): $(SLIDES_NPM)
	@echo "  COPY    reveal.js/dist reveal.js/plugin"
	@rm -rf $(SLIDES_OUT)/reveal.js
	@mkdir -p $(SLIDES_OUT)/reveal.js
	@cp -R $(SLIDES_SRC)/node_modules/reveal.js/dist $(SLIDES_SRC)/node_modules/reveal.js/plugin \
	      $(SLIDES_SRC)/node_modules/reveal.js/LICENSE $(SLIDES_OUT)/reveal.js/
	@touch $@

slides: $(SLIDES_SVG) $(SLIDES_REVEAL_STAMP) | slides-tools
	@test -n "$(SLIDES_MD)" || { echo "slides: no Markdown in $(SLIDES_SRC)/md" >&2; exit 1; }
	@# A failed build must not leave last time's deck looking current.
	@rm -f $(SLIDES_OUT)/ipc.html $(SLIDES_OUT)/ipc-standalone.html
	@cp $(SLIDES_SRC)/ipc.css $(SLIDES_OUT)/ipc.css
	@mkdir -p $(SLIDES_OUT)/fonts
	@cp $(addprefix $(SLIDES_FONT_DIR)/,$(SLIDES_FONTS)) $(SLIDES_OUT)/fonts/
	@cp /usr/share/doc/fonts-dejavu-core/copyright $(SLIDES_OUT)/fonts/LICENSE-DejaVu 2>/dev/null || true
	@echo "  PANDOC  ipc.html"
	@cd $(SLIDES_OUT) && SLIDES_ROOT=$(ROOT) pandoc $(SLIDES_PANDOC_FLAGS) \
	  -o ipc.html.tmp $(SLIDES_MD) && mv ipc.html.tmp ipc.html
	@# pandoc >= 3 spells "one file with everything inside" --embed-resources; 2.x --self-contained.
	@echo "  PANDOC  ipc-standalone.html"
	@cd $(SLIDES_OUT) && major=$$(pandoc --version | sed -n '1s/^pandoc[^0-9]*\([0-9]*\).*/\1/p'); \
	  if [ "$${major:-2}" -ge 3 ]; then embed="--embed-resources"; else embed="--self-contained"; fi; \
	  SLIDES_ROOT=$(ROOT) pandoc $(SLIDES_PANDOC_FLAGS) $$embed --resource-path=. \
	  -o ipc-standalone.html.tmp $(SLIDES_MD) && mv ipc-standalone.html.tmp ipc-standalone.html
	@echo "slides: $(SLIDES_OUT)/ipc.html and $(SLIDES_OUT)/ipc-standalone.html"

test-slides: slides slides-browser
	node $(SLIDES_SRC)/test/test-slides.mjs --root $(ROOT) --out $(SLIDES_OUT)

slides-pdf: slides slides-browser slides-pdf-tools
	@echo "  CHROMIUM ipc-handout.pdf"
	@rm -f $(SLIDES_OUT)/ipc-handout.pdf
	@node $(SLIDES_SRC)/scripts/handout-pdf.mjs --out $(SLIDES_OUT)
	node $(SLIDES_SRC)/test/test-pdf.mjs --out $(SLIDES_OUT)

clean-slides:
	rm -rf $(SLIDES_OUT)
