# EntitlementGateway container image.
#   docker build -t entitlement-gateway .                                   # the gateway only (production)
#   docker build -t entitlement-gateway:emulator --build-arg INCLUDE_EMULATOR=true .
#                                          # also the standalone Store emulator in /app/emulator (development only)
# Configuration comes only from environment variables (Section__Key, see deploy/README.md); nothing secret is in the
# image. The container listens on 8080 as the non-root user "app".
ARG DOTNET_VERSION=10.0

FROM mcr.microsoft.com/dotnet/sdk:${DOTNET_VERSION} AS build
ARG INCLUDE_EMULATOR=false
WORKDIR /src
# Restore first, from the project files only, so the package layer is cached until a project file changes.
COPY Directory.Build.props Directory.Packages.props ./
COPY src/EntitlementGateway/EntitlementGateway.csproj src/EntitlementGateway/
COPY src/EntitlementGateway.Emulator/EntitlementGateway.Emulator.csproj src/EntitlementGateway.Emulator/
RUN dotnet restore src/EntitlementGateway/EntitlementGateway.csproj
COPY src/ src/
RUN dotnet publish src/EntitlementGateway/EntitlementGateway.csproj -c Release -o /app --no-restore -p:UseAppHost=false
# The standalone emulator, only when asked for. /state is copied into the runtime image owned by "app": the emulator
# writes its TLS certificate there (a volume in docker-compose.yml); it stays empty otherwise.
RUN mkdir -p /state \
 && if [ "$INCLUDE_EMULATOR" = "true" ]; then \
      dotnet publish src/EntitlementGateway.Emulator/EntitlementGateway.Emulator.csproj -c Release -o /app/emulator --no-restore -p:UseAppHost=false \
      && mkdir -p /state/emulator-certs; \
    fi

FROM mcr.microsoft.com/dotnet/aspnet:${DOTNET_VERSION} AS runtime
WORKDIR /app
COPY --from=build /app ./
COPY --from=build --chown=app:app /state/ /var/lib/entitlement-gateway/
ENV ASPNETCORE_HTTP_PORTS=8080 \
    ASPNETCORE_ENVIRONMENT=Production \
    DOTNET_NOLOGO=1 \
    DOTNET_CLI_TELEMETRY_OPTOUT=1
# The image's non-root user (uid 1654); Kubernetes' runAsNonRoot checks the numeric id.
USER $APP_UID
EXPOSE 8080
ENTRYPOINT ["dotnet", "EntitlementGateway.dll"]
