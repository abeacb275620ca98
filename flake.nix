# pgdeck's development shell, package, app and container image. Not evaluated on the machine that
# wrote it (nix has no binary cache there); the tests only check that it parses.
{
  description = "pgdeck: a terminal ops console for PostgreSQL fleets on Kubernetes, with its reconcile agents built in";

  inputs = {
    nixpkgs.url = "github:NixOS/nixpkgs/nixos-25.05";
    flake-utils.url = "github:numtide/flake-utils";
  };

  outputs = { self, nixpkgs, flake-utils }:
    flake-utils.lib.eachSystem [ "x86_64-linux" "aarch64-linux" ] (system:
      let
        pkgs = import nixpkgs { inherit system; };
        nodejs = pkgs.nodejs_20;
        # The lab's PostgreSQL, with the citus extension (so the lab and the tests use real Citus).
        postgresql = pkgs.postgresql_16.withPackages (p: [ p.citus ]);
        python = pkgs.python3.withPackages (p: [ p.psycopg2 p.python-etcd ]);

        pgdeck = pkgs.buildNpmPackage {
          pname = "pgdeck";
          version = (builtins.fromJSON (builtins.readFile ./package.json)).version;
          src = ./.;
          inherit nodejs;
          # Dependencies straight from package-lock.json: no npmDepsHash to keep in step.
          npmDeps = pkgs.importNpmLock { npmRoot = ./.; };
          npmConfigHook = pkgs.importNpmLock.npmConfigHook;
          npmBuildScript = "build";
          meta = {
            description = "Terminal ops console for PostgreSQL fleets on Kubernetes";
            license = pkgs.lib.licenses.asl20;
            mainProgram = "pgdeck";
          };
        };

        # The control plane the lab and the tests run: etcd, kube-apiserver, kube-controller-manager,
        # kube-scheduler and kwok, all on PATH, so nothing is built from the Go module proxy.
        controlPlane = [ pkgs.etcd pkgs.kubernetes pkgs.kwok ];
      in
      {
        packages.default = pgdeck;

        # The image the manifests' pods run (`nix build .#image`, then `docker load < result`).
        packages.image = pkgs.dockerTools.buildLayeredImage {
          name = "pgdeck";
          tag = pgdeck.version;
          contents = [ pgdeck pkgs.cacert ];
          config = {
            Entrypoint = [ "${pgdeck}/bin/pgdeck" ];
            User = "65532:65532";
            Env = [ "NODE_ENV=production" ];
          };
        };

        apps.default = {
          type = "app";
          program = "${pgdeck}/bin/pgdeck";
        };

        devShells.default = pkgs.mkShell {
          packages = [
            nodejs
            postgresql
            python
            pkgs.redis
            pkgs.haproxy
            pkgs.patroni
            pkgs.kubectl
            pkgs.kind
            pkgs.tmux
            pkgs.iproute2
            pkgs.openssl
            pkgs.procps
          ] ++ controlPlane;
          shellHook = ''
            export PGDECK_PG_BIN=${postgresql}/bin
            echo "pgdeck dev shell: npm test, scripts/pgdeck, pgdeck lab up"
          '';
        };
      });
}
