# tlsops.ocsp iis_stapling: HTTPS binding inventory (read-only)
# Returns the raw IIS HTTPS bindings; the role decodes them. Never changes anything.
[CmdletBinding(SupportsShouldProcess)]
param()

$ErrorActionPreference = 'Stop'
$Ansible.Changed = $false

Import-Module -Name WebAdministration

$bindings = foreach ($binding in @(Get-WebBinding -Protocol https)) {
    [ordered]@{
        # ItemXPath ends in /site[@name='Default Web Site' and @id='1']
        site = [regex]::Match($binding.ItemXPath, "@name='([^']*)'").Groups[1].Value
        binding_information = [string]$binding.bindingInformation
        ssl_flags = [int]$binding.sslFlags
        certificate_hash = [string]$binding.certificateHash
        certificate_store = [string]$binding.certificateStoreName
    }
}
$Ansible.Result = @{ bindings = @($bindings) }
