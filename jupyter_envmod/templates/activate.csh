# envmod: {{ {"path": env.path, "module": module.full_name, "format": "csh", "version": 1} | json }}
{% set kind_text = "conda environment" if env.kind == "conda" else "Python virtual environment (venv)" %}
{% if env.kind == "conda" %}
{% set variables = {"CONDA_PREFIX": env.path, "CONDA_DEFAULT_ENV": env.name, "PYTHONNOUSERSITE": "1"} %}
{% else %}
{% set variables = {"VIRTUAL_ENV": env.path, "PYTHONNOUSERSITE": "1"} %}
{% endif %}
{% set script = activate_dir ~ "/" ~ module.name ~ ".csh" %}
#
# Activation script for the {{ kind_text }} {{ env.name | json }}
# (Python {{ env.python_version }}, created {{ env.created or "(date unknown)" }} with {{ env.engine }})
# at {{ env.path | json }}.
# Written by {{ generator }} on {{ date }}; regenerated when the environment changes.
#
# For csh and tcsh, e.g. in a batch job. Activate (source it, do not run it):
#     source {{ script | json if "\n" in script else script | csh }}
# Undo:
#     deactivate
#
# It loads the modules the environment was built with when the shell has a 'module'
# command ({{ modules | json if modules else "none" }}), puts the environment's bin directory first on PATH
# and sets {{ variables | list | join(", ") }}. 'deactivate' unloads the modules it
# loaded and restores PATH and those variables. Sourcing it again while the environment
# is active changes nothing.
#
# csh has no functions: 'deactivate' is an alias whose text holds no values, only the
# names of the shell variables (envmod_*) that keep them.

set envmod_prefix = {{ env.path | csh }}
set envmod_skip = 0
if ( $?envmod_active_prefix ) then
    if ( $envmod_active_prefix:q == $envmod_prefix:q ) set envmod_skip = 1
endif
if ( $envmod_skip == 0 ) then
    # another activation (one of these scripts, or a venv's bin/activate.csh): undo it first
    alias deactivate | grep . > /dev/null
    if ( $status == 0 ) eval deactivate
    set envmod_old_PATH = $PATH:q
{% for name in variables %}
    if ( $?{{ name }} ) then
        set envmod_had_{{ name }} = 1
        set envmod_old_{{ name }} = ${{ name }}:q
    else
        set envmod_had_{{ name }} = 0
        set envmod_old_{{ name }} = ''
    endif
{% endfor %}
{% if modules %}
{% for dependency in modules %}
    set envmod_module_{{ loop.index }} = {{ dependency | csh }}
    set envmod_loaded_{{ loop.index }} = 0
{% endfor %}
    alias module | grep . > /dev/null
    if ( $status == 0 ) then
{% for dependency in modules %}
        module is-loaded $envmod_module_{{ loop.index }}:q
        if ( $status != 0 ) then
            module load $envmod_module_{{ loop.index }}:q
            if ( $status == 0 ) then
                set envmod_loaded_{{ loop.index }} = 1
            else
                printf '%s\n' {{ ("envmod: could not load module " ~ dependency ~ ", which the environment \"" ~ env.name ~ "\" was built with; activating it anyway.") | csh }} > /dev/stderr
            endif
        endif
{% endfor %}
    else
        printf '%s\n' {{ ("envmod: this shell has no 'module' command, so the modules the environment \"" ~ env.name ~ "\" was built with were not loaded: " ~ modules | join(" ") ~ ". Activating it anyway; initialise your module system first (source its init script for this shell) to get them.") | csh }} > /dev/stderr
    endif
{% endif %}

    setenv PATH {{ (env.path ~ "/bin") | csh }}:$PATH:q
{% for name, value in variables.items() %}
    setenv {{ name }} {{ value | csh }}
{% endfor %}
    set envmod_active_prefix = $envmod_prefix:q

{% set undo = [] %}
{% for dependency in modules | reverse %}
{% set index = modules | length - loop.index + 1 %}
{# csh does not expand the alias 'module' after 'if ( ... )': eval does #}
{% set _ = undo.append("if ( $envmod_loaded_%d ) eval module unload \\$envmod_module_%d:q" % (index, index)) %}
{% set _ = undo.append("unset envmod_loaded_%d envmod_module_%d" % (index, index)) %}
{% endfor %}
{% set _ = undo.append("setenv PATH $envmod_old_PATH:q") %}
{% for name in variables %}
{% set _ = undo.append("if ( $envmod_had_%s ) setenv %s $envmod_old_%s:q" % (name, name, name)) %}
{% set _ = undo.append("if ( $envmod_had_%s == 0 ) unsetenv %s" % (name, name)) %}
{% set _ = undo.append("unset envmod_had_%s envmod_old_%s" % (name, name)) %}
{% endfor %}
    alias deactivate '{{ (undo + ["unset envmod_old_PATH envmod_active_prefix", "unalias deactivate", "rehash"]) | join("; ") }}'
    rehash
endif
unset envmod_prefix envmod_skip
