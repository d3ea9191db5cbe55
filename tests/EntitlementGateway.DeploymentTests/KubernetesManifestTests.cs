using System.Text.Json;
using EntitlementGateway.DeploymentTests.Infrastructure;

namespace EntitlementGateway.DeploymentTests;

/// <summary>Every overlay (and the base) rendered by <c>kubectl kustomize</c> has the properties the platform relies on.</summary>
public sealed class KubernetesManifestTests
{
    public static TheoryData<string> Kustomizations()
    {
        var data = new TheoryData<string> { "deploy/base" };
        foreach (var overlay in Kustomize.Overlays()) data.Add($"deploy/overlays/{overlay}");
        return data;
    }

    [Fact]
    public void There_is_at_least_one_overlay() => Assert.Contains("example", Kustomize.Overlays());

    [Theory]
    [MemberData(nameof(Kustomizations))]
    public async Task Deployment_runs_at_least_three_hardened_replicas_with_probes_and_resources(string kustomization)
    {
        var objects = await Kustomize.RenderAsync(Repo.PathOf(kustomization));
        var deployment = objects.Single("Deployment");
        // The autoscaler owns the count: a replicas field would undo its choice on every apply.
        Assert.False(deployment.At("spec").TryGetProperty("replicas", out _));
        Assert.Equal(3, objects.Single("HorizontalPodAutoscaler").At("spec", "minReplicas").GetInt32());

        var pod = deployment.At("spec", "template", "spec");
        Assert.True(pod.At("securityContext", "runAsNonRoot").GetBoolean());
        Assert.NotEqual(0, pod.At("securityContext", "runAsUser").GetInt32());
        Assert.False(pod.At("automountServiceAccountToken").GetBoolean());

        var container = Assert.Single(pod.At("containers").EnumerateArray());
        Assert.Equal("/health/live", container.At("livenessProbe", "httpGet", "path").GetString());
        Assert.Equal("/health/ready", container.At("readinessProbe", "httpGet", "path").GetString());
        Assert.Equal(8080, container.At("ports").EnumerateArray().Single().At("containerPort").GetInt32());
        foreach (var kind in new[] { "requests", "limits" })
        foreach (var resource in new[] { "cpu", "memory" })
            Assert.False(string.IsNullOrEmpty(container.OrNull("resources", kind, resource)), $"resources.{kind}.{resource} is missing");

        var security = container.At("securityContext");
        Assert.True(security.At("runAsNonRoot").GetBoolean());
        Assert.True(security.At("readOnlyRootFilesystem").GetBoolean());
        Assert.False(security.At("allowPrivilegeEscalation").GetBoolean());
        Assert.Equal(["ALL"], security.At("capabilities", "drop").EnumerateArray().Select(e => e.GetString()));
        // A read-only root needs a writable /tmp for .NET.
        Assert.Contains(container.At("volumeMounts").EnumerateArray(), m => m.At("mountPath").GetString() == "/tmp");
    }

    [Theory]
    [MemberData(nameof(Kustomizations))]
    public async Task Settings_come_from_the_ConfigMap_and_the_Secret_which_is_not_rendered(string kustomization)
    {
        var objects = await Kustomize.RenderAsync(Repo.PathOf(kustomization));
        var container = objects.Single("Deployment").At("spec", "template", "spec", "containers")[0];
        var configMap = objects.Single("ConfigMap");
        var sources = container.At("envFrom").EnumerateArray().ToList();
        Assert.Contains(sources, s => s.OrNull("configMapRef", "name") == configMap.At("metadata", "name").GetString());
        Assert.Contains(sources, s => s.OrNull("secretRef", "name") == "entitlement-gateway-secrets");
        // Applying the kustomization must never overwrite the real credentials with a template.
        Assert.DoesNotContain(objects, o => o.At("kind").GetString() == "Secret");

        var data = configMap.At("data");
        Assert.Equal("Production", data.OrNull("ASPNETCORE_ENVIRONMENT"));
        Assert.Equal("Live", data.OrNull("Store__Mode"));
        foreach (var secretName in new[] { "Store__ClientSecret", "Store__CertificatePassword", "Redis__ConnectionString", "Store__TrustedCertificateThumbprint", "Clawback__WebhookSecret" })
            Assert.Null(data.OrNull(secretName));
    }

    [Theory]
    [MemberData(nameof(Kustomizations))]
    public async Task Players_are_bound_and_only_the_ingress_is_believed_about_client_addresses(string kustomization)
    {
        var data = (await Kustomize.RenderAsync(Repo.PathOf(kustomization))).Single("ConfigMap").At("data");

        // Production refuses to start without a binding decision; the manifests ship binding on, never the opt-out.
        Assert.Equal("true", data.OrNull("PlayerAuth__Enabled"));
        Assert.StartsWith("https://", data.OrNull("PlayerAuth__Authority"));
        // The shipped authority is a placeholder under a reserved name, which Production refuses until it is replaced.
        Assert.True(EntitlementGateway.Security.PlayerAuthOptionsValidator.IsPlaceholder(data.OrNull("PlayerAuth__Authority")));
        Assert.False(string.IsNullOrEmpty(data.OrNull("PlayerAuth__Audience")));
        Assert.Null(data.OrNull("PlayerAuth__TrustGameClient"));
        // Known proxies/networks only: never "trust any X-Forwarded-For".
        var networks = data.OrNull("ForwardedHeaders__KnownNetworks")!.Split(',');
        Assert.All(networks, n => Assert.True(System.Net.IPNetwork.TryParse(n, out var network) && network.PrefixLength > 0, $"{n} is not a bounded network"));
        Assert.Equal("1", data.OrNull("ForwardedHeaders__ForwardLimit"));
        Assert.Null(data.OrNull("ClientLimits__TrustForwardedHeaders"));
        Assert.True(int.Parse(data.OrNull("ClientLimits__MaxPartitions")!, System.Globalization.CultureInfo.InvariantCulture) > 0);
    }

    [Theory]
    [MemberData(nameof(Kustomizations))]
    public async Task Budget_replicas_match_the_most_replicas_the_autoscaler_allows(string kustomization)
    {
        var objects = await Kustomize.RenderAsync(Repo.PathOf(kustomization));
        var deployment = objects.Single("Deployment");
        var hpa = objects.Single("HorizontalPodAutoscaler");
        Assert.Equal("autoscaling/v2", hpa.At("apiVersion").GetString());
        Assert.Equal(deployment.At("metadata", "name").GetString(), hpa.At("spec", "scaleTargetRef", "name").GetString());
        var min = hpa.At("spec", "minReplicas").GetInt32();
        var max = hpa.At("spec", "maxReplicas").GetInt32();
        Assert.True(max >= min);

        var budgetReplicas = int.Parse(objects.Single("ConfigMap").At("data", "Budget__Replicas").GetString()!, System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(budgetReplicas == max, $"Budget__Replicas is {budgetReplicas} but the HorizontalPodAutoscaler may run {max} replicas");
    }

    [Theory]
    [MemberData(nameof(Kustomizations))]
    public async Task Shutdown_fits_in_the_grace_period(string kustomization)
    {
        var objects = await Kustomize.RenderAsync(Repo.PathOf(kustomization));
        var pod = objects.Single("Deployment").At("spec", "template", "spec");
        var grace = pod.At("terminationGracePeriodSeconds").GetInt32();
        var preStop = pod.At("containers")[0].At("lifecycle", "preStop", "sleep", "seconds").GetInt32();
        var shutdown = int.Parse(objects.Single("ConfigMap").At("data", "Hosting__ShutdownTimeoutSeconds").GetString()!, System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(preStop > 0);
        Assert.True(grace > preStop + shutdown,
            $"terminationGracePeriodSeconds {grace} must exceed the preStop sleep {preStop} + Hosting__ShutdownTimeoutSeconds {shutdown}");
    }

    [Theory]
    [MemberData(nameof(Kustomizations))]
    public async Task Service_disruption_budget_and_network_policy_select_the_pods(string kustomization)
    {
        var objects = await Kustomize.RenderAsync(Repo.PathOf(kustomization));
        var podLabels = objects.Single("Deployment").At("spec", "template", "metadata", "labels");
        bool Selects(JsonElement selector) => selector.EnumerateObject().All(p => podLabels.OrNull(p.Name) == p.Value.GetString());

        var service = objects.Single("Service");
        Assert.True(Selects(service.At("spec", "selector")));
        Assert.Equal("http", service.At("spec", "ports")[0].At("targetPort").GetString());

        var pdb = objects.Single("PodDisruptionBudget");
        Assert.Equal("policy/v1", pdb.At("apiVersion").GetString());
        Assert.True(Selects(pdb.At("spec", "selector", "matchLabels")));
        Assert.Equal(1, pdb.At("spec", "maxUnavailable").GetInt32());

        var policy = objects.Single("NetworkPolicy");
        Assert.True(Selects(policy.At("spec", "podSelector", "matchLabels")));
        Assert.Equal(["Ingress", "Egress"], policy.At("spec", "policyTypes").EnumerateArray().Select(e => e.GetString()));
        var ingressPorts = policy.At("spec", "ingress").EnumerateArray().SelectMany(r => r.At("ports").EnumerateArray()).Select(p => p.At("port").GetInt32());
        Assert.Equal([8080], ingressPorts);
        var egressPorts = policy.At("spec", "egress").EnumerateArray().SelectMany(r => r.At("ports").EnumerateArray()).Select(p => p.At("port").GetInt32()).ToHashSet();
        Assert.Superset(new HashSet<int> { 53, 443, 6379, 4317, 4318 }, egressPorts);
    }

    [Theory]
    [MemberData(nameof(Kustomizations))]
    public async Task Refunds_and_chargebacks_are_off_unless_an_overlay_names_an_https_receiver(string kustomization)
    {
        var data = (await Kustomize.RenderAsync(Repo.PathOf(kustomization))).Single("ConfigMap").At("data");
        var enabled = data.OrNull("Clawback__Enabled");
        if (kustomization == "deploy/base") Assert.Equal("false", enabled);
        Assert.Contains(enabled, new[] { "false", "true" });
        // Turned on, it needs a receiver the validator accepts in Production; its key is never in the ConfigMap.
        if (enabled == "true") Assert.StartsWith("https://", data.OrNull("Clawback__WebhookUrl"), StringComparison.Ordinal);
        Assert.Null(data.OrNull("Clawback__WebhookSecret"));
    }

    [Fact]
    public async Task Secret_template_names_the_credentials_and_holds_no_values()
    {
        var path = Repo.PathOf("deploy", "base", "secret.template.yaml");
        var secret = Assert.Single(await Kustomize.ReadFileAsync(path));
        Assert.Equal("Secret", secret.At("kind").GetString());
        Assert.Equal("entitlement-gateway-secrets", secret.At("metadata", "name").GetString());
        Assert.False(secret.TryGetProperty("data", out _));
        var values = secret.At("stringData").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString());
        Assert.Superset(new HashSet<string> { "Store__TenantId", "Store__ClientId", "Store__ClientSecret", "Redis__ConnectionString", "Clawback__WebhookSecret", "Ops__ApiKey" }, values.Keys.ToHashSet());
        Assert.All(values, v => Assert.True(string.IsNullOrEmpty(v.Value), $"{v.Key} has a value in the template"));
        // Not listed in any kustomization, so it is never applied by accident.
        foreach (var file in Directory.GetFiles(Repo.PathOf("deploy"), "kustomization.yaml", SearchOption.AllDirectories))
            Assert.DoesNotContain(File.ReadLines(file), l => !l.TrimStart().StartsWith('#') && l.Contains("secret.template.yaml", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Example_overlay_pins_an_image_and_scales_the_budget_with_the_autoscaler()
    {
        var objects = await Kustomize.RenderAsync(Repo.PathOf("deploy", "overlays", "example"));
        var image = objects.Single("Deployment").At("spec", "template", "spec", "containers")[0].At("image").GetString()!;
        Assert.Matches(@"^[\w.-]+(/[\w.-]+)+:\d+\.\d+\.\d+$", image);
        Assert.All(objects.Where(o => o.At("kind").GetString() != "Namespace"),
            o => Assert.Equal("entitlement-gateway", o.At("metadata", "namespace").GetString()));
        Assert.Equal(10, objects.Single("HorizontalPodAutoscaler").At("spec", "maxReplicas").GetInt32());
    }

    [Theory]
    [MemberData(nameof(Kustomizations))]
    public async Task The_Secret_is_optional_so_a_deployment_without_a_client_secret_starts(string kustomization)
    {
        var container = (await Kustomize.RenderAsync(Repo.PathOf(kustomization))).Single("Deployment").At("spec", "template", "spec", "containers")[0];
        var secret = container.At("envFrom").EnumerateArray().Single(s => s.OrNull("secretRef", "name") == "entitlement-gateway-secrets");
        Assert.True(secret.At("secretRef", "optional").GetBoolean());
    }

    [Fact]
    public async Task Workload_identity_overlay_runs_as_an_annotated_service_account_with_no_client_secret()
    {
        var objects = await Kustomize.RenderAsync(Repo.PathOf("deploy", "overlays", "workload-identity"));
        var account = objects.Single("ServiceAccount");
        Assert.True(Guid.TryParse(account.OrNull("metadata", "annotations", "azure.workload.identity/client-id"), out _));
        var pod = objects.Single("Deployment").At("spec", "template");
        Assert.Equal("true", pod.OrNull("metadata", "labels", "azure.workload.identity/use"));
        Assert.Equal(account.At("metadata", "name").GetString(), pod.At("spec", "serviceAccountName").GetString());
        var data = objects.Single("ConfigMap").At("data");
        Assert.Equal("WorkloadIdentity", data.OrNull("Store__Credential"));
        foreach (var name in new[] { "Store__ClientSecret", "Store__CertificatePath", "Store__CertificatePassword" })
            Assert.Null(data.OrNull(name));
        Assert.DoesNotContain(objects, o => o.At("kind").GetString() == "Secret");
        Assert.All(objects.Where(o => o.At("kind").GetString() != "Namespace"),
            o => Assert.Equal("entitlement-gateway", o.At("metadata", "namespace").GetString()));
    }
}
