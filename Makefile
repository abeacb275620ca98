# The operator-style targets, as thin aliases of the pgdeck CLI against the current kube context.
# OVERLAY=lab|stage|prod, ARGS="--dry-run -n NS --context C" pass through.
PGDECK ?= node dist/main.js
OVERLAY ?= lab

.PHONY: install uninstall deploy undeploy deploy-sample delete-sample

install:
	$(PGDECK) install $(ARGS)

uninstall:
	$(PGDECK) uninstall $(ARGS)

deploy:
	$(PGDECK) deploy --overlay $(OVERLAY) $(ARGS)

undeploy:
	$(PGDECK) undeploy --overlay $(OVERLAY) $(ARGS)

deploy-sample:
	$(PGDECK) deploy --sample $(ARGS)

delete-sample:
	$(PGDECK) undeploy --sample $(ARGS)
