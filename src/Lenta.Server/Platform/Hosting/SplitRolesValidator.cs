using Lenta.Server.Platform.Cache;
using Lenta.Server.Platform.Database;
using Lenta.Server.Platform.Jobs;
using Lenta.Server.Platform.Objects;
using Microsoft.Extensions.Options;

namespace Lenta.Server.Platform.Hosting;

/// <summary>
/// A process that plays only some roles is one of several, and they must share every store: an embedded one (the SQLite
/// file, the in-process cache, the local queue's wake-ups, the disk object folders) is private to one process or one
/// machine, so a read node would serve a cache its writes never reach and a worker would never see the uploads. Such a
/// start is refused, naming each setting to change; <c>all</c> (one process) keeps the embedded stores.
/// </summary>
public sealed class SplitRolesValidator(IConfiguration config) : IValidateOptions<LentaOptions>
{
    public ValidateOptionsResult Validate(string? name, LentaOptions o)
    {
        if (!RoleParser.TryParse(o.Roles, out var roles, out _) || roles == ServerRoles.All)
            return ValidateOptionsResult.Success;   // an unknown role is reported by SettingsValidator
        var errors = new List<string>();
        var split = $"Lenta__Roles is '{o.Roles}', one process of several sharing every store, but";
        if (Provider(DatabaseOptions.Section, new DatabaseOptions().Provider) == "sqlite")
            errors.Add($"Lenta__Database__Provider: {split} sqlite is a file of this machine; use postgres (or Lenta__Roles=all).");
        if (Provider(CacheOptions.Section, new CacheOptions().Provider) == "memory")
            errors.Add($"Lenta__Cache__Provider: {split} memory is this process's own; use redis (or Lenta__Roles=all).");
        if (Provider(JobQueueOptions.Section, new JobQueueOptions().Provider) == "local")
            errors.Add($"Lenta__Queue__Provider: {split} local wakes only this process's workers; use rabbitmq (or Lenta__Roles=all).");
        if (Provider(ObjectStoreOptions.Section, new ObjectStoreOptions().Provider) == "disk")
            errors.Add($"Lenta__ObjectStore__Provider: {split} disk is a folder of this machine; use s3 (or Lenta__Roles=all).");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private string Provider(string section, string fallback) => config.GetSection(section)["Provider"] ?? fallback;
}
