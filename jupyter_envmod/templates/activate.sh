# envmod: {{ {"path": env.path, "module": module.full_name, "format": "sh", "version": 1} | json }}
{% set kind_text = "conda environment" if env.kind == "conda" else "Python virtual environment (venv)" %}
{% if env.kind == "conda" %}
{% set variables = {"CONDA_PREFIX": env.path, "CONDA_DEFAULT_ENV": env.name, "PYTHONNOUSERSITE": "1"} %}
{% else %}
{% set variables = {"VIRTUAL_ENV": env.path, "PYTHONNOUSERSITE": "1"} %}
{% endif %}
{% set script = activate_dir ~ "/" ~ module.name ~ ".sh" %}
#
# Activation script for the {{ kind_text }} {{ env.name | json }}
# (Python {{ env.python_version }}, created {{ env.created or "(date unknown)" }} with {{ env.engine }})
# at {{ env.path | json }}.
# Written by {{ generator }} on {{ date }}; regenerated when the environment changes.
#
# For sh, bash and zsh, e.g. in a batch job. Activate (source it, do not run it):
#     . {{ script | json if "\n" in script else script | sh }}
# Undo:
#     deactivate
#
# It loads the modules the environment was built with when the shell has a 'module'
# command ({{ modules | json if modules else "none" }}), puts the environment's bin directory first on PATH
# and sets {{ variables | list | join(", ") }}. 'deactivate' unloads the modules it
# loaded and restores PATH and those variables. Sourcing it again while the environment
# is active changes nothing.

_envmod_prefix={{ env.path | sh }}
if [ "${_envmod_active_prefix+set}" = set ] && [ "$_envmod_active_prefix" = "$_envmod_prefix" ]; then
    : # already active in this shell
else
    # another activation (one of these scripts, or a venv's bin/activate): undo it first
    case "$(type deactivate 2>/dev/null)" in
        *function*) deactivate ;;
    esac
    _envmod_old_PATH=$PATH
{% for name in variables %}
    if [ "${ {{- name }}+set}" = set ]; then _envmod_old_{{ name }}=${{ name }}; else unset _envmod_old_{{ name }}; fi
{% endfor %}
{% if modules %}
    if command -v module >/dev/null 2>&1; then
{% for dependency in modules %}
        _envmod_loaded_{{ loop.index }}=
        if module is-loaded {{ dependency | sh }} >/dev/null 2>&1; then
            :
        elif module load {{ dependency | sh }}; then
            _envmod_loaded_{{ loop.index }}=1
        else
            printf '%s\n' {{ ("envmod: could not load module " ~ dependency ~ ", which the environment \"" ~ env.name ~ "\" was built with; activating it anyway.") | sh }} >&2
        fi
{% endfor %}
    else
        printf '%s\n' {{ ("envmod: this shell has no 'module' command, so the modules the environment \"" ~ env.name ~ "\" was built with were not loaded: " ~ modules | join(" ") ~ ". Activating it anyway; initialise your module system first (source its init script for this shell) to get them.") | sh }} >&2
    fi
{% endif %}

    PATH="$_envmod_prefix/bin:$PATH"
    export PATH
{% for name, value in variables.items() %}
    {{ name }}={{ value | sh }}
    export {{ name }}
{% endfor %}
    _envmod_active_prefix=$_envmod_prefix

    deactivate() {
{% if modules %}
        if command -v module >/dev/null 2>&1; then
{% for dependency in modules | reverse %}
{% set index = modules | length - loop.index + 1 %}
            if [ -n "${_envmod_loaded_{{ index }}-}" ]; then module unload {{ dependency | sh }}; fi
{% endfor %}
        fi
        unset {% for dependency in modules %}_envmod_loaded_{{ loop.index }}{{ " " if not loop.last }}{% endfor %}

{% endif %}
        PATH=$_envmod_old_PATH
        export PATH
{% for name in variables %}
        if [ "${_envmod_old_{{ name }}+set}" = set ]; then {{ name }}=$_envmod_old_{{ name }}; export {{ name }}; else unset {{ name }}; fi
{% endfor %}
        unset _envmod_old_PATH {% for name in variables %}_envmod_old_{{ name }} {% endfor %}_envmod_active_prefix
        unset -f deactivate
        hash -r 2>/dev/null || true
    }
    hash -r 2>/dev/null || true
fi
unset _envmod_prefix
