{
  description = "pgdeck: terminal ops console for PostgreSQL fleets on Kubernetes";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";

  outputs = { self, nixpkgs }:
    let
      systems = [ "x86_64-linux" "aarch64-linux" "x86_64-darwin" "aarch64-darwin" ];
      forAll = f: nixpkgs.lib.genAttrs systems (system: f nixpkgs.legacyPackages.${system});
    in {
      devShells = forAll (pkgs: {
        # Everything scripts/setup would install, on PATH: inside `nix develop` it installs nothing,
        # and the control-plane launcher finds kube-apiserver, etcd and kwok here instead of building them.
        default = pkgs.mkShell {
          packages = with pkgs; [
            nodejs_20
            postgresql_15
            etcd
            redis
            patroni
            haproxy
            tmux
            openssl
            kubernetes
            kwok
            go
          ];
          shellHook = ''
            export PGDECK_PG_BIN=${pkgs.postgresql_15}/bin
          '';
        };
      });
    };
}
