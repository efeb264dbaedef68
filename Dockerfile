# syntax=docker/dockerfile:1
# The `langevin` CLI on Debian 12, for the job files in deploy/ (docs/scale.md):
#   docker build -t langevin:latest .
#   docker run --rm langevin:latest langevin datasets
# Stage 1 installs the .NET 10 SDK from Microsoft's package feed for Debian 12 and builds the CLI as the README does;
# stage 2 holds the .NET 10 runtime, MPICH (mpiexec and libmpich12, for MPI data-parallel training), Fashion-MNIST
# (Debian's dataset-fashion-mnist, in /usr/share/datasets/fashion-mnist; --build-arg FASHION_MNIST=0 leaves it out),
# the published CLI in /opt/langevin with the `langevin` wrapper on PATH, and deploy/ (shard-index.sh on PATH).

FROM debian:bookworm AS build
ENV DEBIAN_FRONTEND=noninteractive DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates wget \
 && wget -q https://packages.microsoft.com/config/debian/12/packages-microsoft-prod.deb -O /tmp/packages-microsoft-prod.deb \
 && dpkg -i /tmp/packages-microsoft-prod.deb \
 && rm /tmp/packages-microsoft-prod.deb \
 && apt-get update \
 && apt-get install -y --no-install-recommends dotnet-sdk-10.0 \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# The repository less what .dockerignore leaves out (build outputs, runs, .git). The publish also builds and runs
# build/ElfVersionPatch, which marks libLibTorchSharp.so's GLIBCXX_3.4.32 need weak for Debian 12's libstdc++.
COPY . .
RUN dotnet publish src/Langevin.Cli -c Release -o /opt/langevin

FROM debian:bookworm-slim
ARG FASHION_MNIST=1
ENV DEBIAN_FRONTEND=noninteractive DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates wget \
 && wget -q https://packages.microsoft.com/config/debian/12/packages-microsoft-prod.deb -O /tmp/packages-microsoft-prod.deb \
 && dpkg -i /tmp/packages-microsoft-prod.deb \
 && rm /tmp/packages-microsoft-prod.deb \
 && apt-get update \
 && apt-get install -y --no-install-recommends dotnet-runtime-10.0 mpich libmpich12 \
 && if [ "$FASHION_MNIST" = 1 ]; then apt-get install -y --no-install-recommends dataset-fashion-mnist; fi \
 && apt-get purge -y wget \
 && apt-get autoremove -y \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /opt/langevin /opt/langevin
COPY deploy/ /opt/langevin/deploy/
RUN printf '#!/bin/sh\nexec dotnet /opt/langevin/Langevin.Cli.dll "$@"\n' > /usr/local/bin/langevin \
 && chmod 0755 /usr/local/bin/langevin /opt/langevin/deploy/*.sh /opt/langevin/deploy/*.sbatch \
 && ln -s /opt/langevin/deploy/shard-index.sh /usr/local/bin/shard-index.sh
# The image metrics' feature network is trained once and cached here; mount shared storage at /work to keep it.
ENV LANGEVIN_CACHE=/work/cache
WORKDIR /work
CMD ["langevin", "--help"]
