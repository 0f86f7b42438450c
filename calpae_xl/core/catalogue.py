"""The one catalogue of codes: every finding on a maquette and every refusal
of a file has its entry here (gravité, titre, explication, que faire), like
frictionless' typed errors. The checks, the reader, the gate and the save
frame take their codes from it; ``calpae-xl codes`` prints it for users.

A code missing from the catalogue is a defect: :func:`entry` raises.
"""
from __future__ import annotations

from dataclasses import dataclass

from .findings import Severity

#: the kinds of codes: a finding on the maquette's content, or a file the tool could not read or write
CONSTAT, FICHIER = "constat", "fichier"


@dataclass(frozen=True)
class Entry:
    code: str
    kind: str
    severity: Severity
    titre: str
    explication: str
    que_faire: str

    def as_dict(self) -> dict:
        return {"code": self.code, "nature": self.kind, "gravite": self.severity.value, "titre": self.titre,
                "explication": self.explication, "que_faire": self.que_faire}


class UnknownCode(KeyError):
    """A code used by the project that the catalogue lacks."""


E, W, INFO = Severity.ERREUR, Severity.AVERTISSEMENT, Severity.INFO

_ENTRIES: tuple[tuple[str, str, Severity, str, str, str], ...] = (
    # --- amounts --------------------------------------------------------------------------
    ("MONTANT_ILLISIBLE", CONSTAT, E, "Montant illisible",
     "La cellule contient un texte qui n'est pas un montant en euros (« n.c. », « 1.234 », une date, une "
     "valeur d'erreur comme #DIV/0!…). Il n'est jamais compté comme zéro.",
     "Saisissez le montant en chiffres (« 35 812,50 » ou 35812,5), ou videz la cellule."),
    ("MONTANT_SOUS_CENTIME", CONSTAT, E, "Fraction de centime",
     "Le montant a plus de deux décimales (« 1234,567 ») : il n'est pas arrondi en silence.",
     "Saisissez le montant au centime."),
    ("MONTANT_DEMESURE", CONSTAT, E, "Montant démesuré",
     "Le montant dépasse ce qu'une convention peut porter (dix milliards d'euros) : une faute de frappe.",
     "Corrigez le montant."),
    ("FORMULE_SANS_VALEUR", CONSTAT, E, "Formule sans valeur enregistrée",
     "La cellule contient une formule dont le résultat n'est pas enregistré dans le fichier (fichier écrit "
     "par un programme, ou formule qui lit une cellule que « Recalculer » a modifiée) : l'outil ne la compte "
     "pas comme zéro.",
     "Ouvrez le classeur dans Excel ou LibreOffice, enregistrez-le, puis recommencez."),
    ("MONTANT_FUSIONNE", CONSTAT, E, "Montant fusionné sur plusieurs cellules",
     "Une cellule de montant est fusionnée sur plusieurs lignes ou colonnes : on ne peut pas savoir à quelle "
     "action ni à quelle colonne le montant revient. Il n'est compté nulle part et l'outil n'écrit pas dans ces "
     "cellules.", "Annulez la fusion et saisissez le montant de chaque action dans sa ligne."),
    ("COLONNE_ABSENTE", CONSTAT, E, "Colonne non trouvée",
     "Une colonne nécessaire de la maquette n'a pas été reconnue dans la ligne d'en-têtes : les contrôles qui "
     "en dépendent ne peuvent pas être faits, la maquette n'est donc pas déclarée correcte. Une colonne de "
     "montants non trouvée n'est jamais lue comme des zéros : « Recalculer » ne modifie pas le tableau et la "
     "consolidation ne compte pas ces montants.",
     "Vérifiez l'intitulé de la colonne (par exemple « Participation État ») ou ajoutez-la."),
    ("COLONNE_EN_DOUBLE", CONSTAT, E, "Colonne en double",
     "Deux colonnes portent le même en-tête : seule la première est lue.",
     "Renommez ou supprimez la colonne en trop."),
    ("TOTAL_INTERMEDIAIRE", CONSTAT, W, "Total intermédiaire non contrôlé",
     "Une ligne de total d'autre chose qu'un bloc (un thème…) : elle n'est pas lue comme une action et ses "
     "montants ne sont pas contrôlés.", "Vérifiez-la vous-même, ou supprimez-la (les sous-totaux des blocs et le "
     "total suffisent)."),
    ("LIGNE_MASQUEE", CONSTAT, W, "Ligne masquée",
     "Une action est sur une ligne masquée : elle est comptée dans les totaux sans se voir à l'écran ni à "
     "l'impression (une action annulée ?).", "Affichez la ligne ; supprimez-la si l'action est annulée."),
    ("LIGNES_APRES_TOTAL", CONSTAT, E, "Lignes après le total",
     "Des lignes portant des montants suivent la ligne TOTAL : elles ne sont pas lues comme des actions.",
     "Déplacez ces actions au-dessus des sous-totaux, ou supprimez les lignes."),
    ("PLUSIEURS_MAQUETTES", CONSTAT, E, "Plusieurs maquettes",
     "Plusieurs feuilles du classeur contiennent un tableau de maquette : une seule est lue et contrôlée, les "
     "autres ne le sont pas : la maquette n'est donc pas déclarée correcte.",
     "Gardez une maquette par classeur (une autre année : un autre fichier)."),
    ("MONTANT_NEGATIF", CONSTAT, E, "Montant négatif",
     "Un montant de la maquette est négatif.", "Corrigez le signe du montant."),
    ("AUCUNE_ACTION", CONSTAT, E, "Aucune action",
     "Le tableau de la maquette ne contient aucune ligne d'action : rien n'est programmé. Une maquette vide "
     "n'est pas une annexe financière, elle n'est donc jamais déclarée correcte.",
     "Saisissez une ligne par action (N° de fiche, intitulé, imputation Chorus, budget global), puis cliquez "
     "sur « Recalculer »."),
    ("MONTANT_MANQUANT", CONSTAT, E, "Montant à saisir",
     "Le montant qui sert de base à la règle de répartition de l'action n'est pas renseigné (budget global "
     "en parité, parts État et CD en répartition libre). Une cellule vide ne vaut jamais zéro.",
     "Saisissez ce montant, puis cliquez sur « Recalculer »."),
    ("A_RECALCULER", CONSTAT, E, "Ligne à recalculer",
     "Une cellule calculée de la ligne est vide : la ligne n'est pas à jour, et la maquette ne porte pas "
     "le montant qu'elle devrait porter (une erreur : une maquette ainsi ne se transmet pas).",
     "Cliquez sur « Recalculer »."),
    # --- identities and rules ---------------------------------------------------------------
    ("IDENTITE_ETAT_CD", CONSTAT, E, "Budget État + CD incohérent",
     "Annexe financière : le budget État + CD doit être égal à part État + part CD + report N-1.",
     "Cliquez sur « Recalculer » (règle parité) ou corrigez les parts saisies (règle libre)."),
    ("IDENTITE_GLOBAL", CONSTAT, E, "Budget global incohérent",
     "Annexe financière : le budget global doit être égal au budget État + CD plus les autres financeurs.",
     "Vérifiez le budget global et les autres financeurs, puis cliquez sur « Recalculer »."),
    ("PARITE_ROMPUE", CONSTAT, E, "Parité rompue",
     "Convention, article 2.3 : en co-financement à parité, parts État et CD sont égales (au centime près).",
     "Cliquez sur « Recalculer », ou passez l'action en répartition « libre » si la parité ne s'applique pas."),
    ("ETAT_100_ROMPU", CONSTAT, E, "Part CD dans une action 100 % État",
     "L'action relève d'un financement à 100 % par l'État (un volet que l'État finance seul) : sa part CD doit "
     "être nulle.", "Cliquez sur « Recalculer », ou changez la règle de répartition de l'action."),
    ("CD_INFERIEUR_ETAT", CONSTAT, E, "Part CD inférieure à la part État",
     "En répartition libre, la part du Département ne peut pas être inférieure à celle de l'État.",
     "Corrigez les parts saisies."),
    # --- envelope ---------------------------------------------------------------------------
    ("ENVELOPPE_DEPASSE", CONSTAT, E, "Enveloppe dépassée",
     "Article 2 de l'avenant : la somme des parts État dépasse les crédits notifiés.",
     "Réduisez des parts État ou vérifiez les crédits notifiés (feuille « Paramètres »)."),
    ("ENVELOPPE_NON_CONSOMME", CONSTAT, W, "Crédits non programmés",
     "La somme des parts État est inférieure aux crédits notifiés : une partie n'est pas programmée.",
     "Vérifiez que c'est voulu ; sinon programmez le reliquat."),
    ("REPORT_DEPASSE", CONSTAT, E, "Report dépassé",
     "La part État des reports N-1 (moitié de la colonne report) dépasse le report notifié.",
     "Vérifiez les reports des actions et le report notifié (feuille « Paramètres »)."),
    ("REPORT_NON_CONSOMME", CONSTAT, W, "Report non programmé",
     "La part État des reports N-1 est inférieure au report notifié.",
     "Vérifiez que c'est voulu ; sinon répartissez le reliquat du report."),
    ("PLAFOND_NON_CONSTANT", CONSTAT, E, "Plafond annuel non constant",
     "Le contrat est financé dans le cadre de montants annuels plafonds constants, mais les crédits notifiés "
     "diffèrent d'une année à l'autre.", "Vérifiez les crédits de chaque année dans la feuille « Paramètres »."),
    ("CONTRAT_DEPASSE", CONSTAT, E, "Contrat dépassé",
     "Sur l'ensemble des années du contrat, la somme des parts État dépasse la somme des plafonds annuels.",
     "Réduisez des parts État ou vérifiez les crédits notifiés."),
    ("REPORT_SANS_RELIQUAT", CONSTAT, W, "Report sans reliquat",
     "Le report d'une action dépasse ce que l'année précédente a laissé non consommé (part État moins la part "
     "État du budget exécuté).", "Vérifiez le report et le budget exécuté de l'année précédente dans la fiche."),
    ("CONTROLE_INCOMPLET", CONSTAT, W, "Enveloppe non contrôlée",
     "La somme des parts État (ou des reports) comprend un montant illisible, ou calculé depuis un montant "
     "illisible, ou d'une colonne non trouvée : elle serait fausse, et n'est donc pas comparée aux crédits "
     "notifiés.",
     "Corrigez le montant illisible signalé par ailleurs, cliquez sur « Recalculer », puis contrôlez à nouveau."),
    ("PARAMETRE_MANQUANT", CONSTAT, INFO, "Paramètre non renseigné",
     "Les crédits notifiés ou le report notifié ne sont pas connus : le contrôle de l'enveloppe n'est pas fait.",
     "Renseignez la feuille « Paramètres », ou donnez --credits-etat / --report-etat."),
    ("PROFIL_INCONNU", CONSTAT, E, "Profil de convention inconnu",
     "La feuille « Paramètres » nomme un profil de convention que l'outil ne connaît pas : la maquette est lue "
     "comme une CALPAE, ce qui n'est sans doute pas juste.",
     "Corrigez le nom du profil (calpae-xl profils les liste) ou donnez votre fichier de profil avec --profil."),
    ("PROFIL_DIFFERENT", CONSTAT, W, "Profil demandé différent de celui du classeur",
     "La maquette a été lue avec le profil donné par --profil, mais sa feuille « Paramètres » en nomme un autre : "
     "les contrôles suivent le profil demandé, le classeur en attend un autre.",
     "Vérifiez lequel est le bon ; corrigez le profil dans « Paramètres » ou relancez sans --profil."),
    ("REGLE_NON_PERMISE", CONSTAT, E, "Règle de répartition non permise",
     "La règle de répartition de l'action n'est pas permise dans son groupe (bloc, axe ou volet) par la "
     "convention (par exemple « libre » dans un volet financé à 100 % par l'État).",
     "Choisissez une règle permise dans la colonne « Répartition »."),
    ("PARAMETRE_ILLISIBLE", CONSTAT, E, "Paramètre illisible",
     "Un montant de la feuille « Paramètres » n'est pas lisible.", "Saisissez-le en chiffres."),
    # --- totals ------------------------------------------------------------------------------
    ("SOUS_TOTAL_FAUX", CONSTAT, E, "Sous-total faux",
     "Un sous-total saisi diffère de la somme des lignes de son bloc.", "Cliquez sur « Recalculer »."),
    ("TOTAL_FAUX", CONSTAT, E, "Total faux",
     "Le total saisi diffère de la somme des lignes.", "Cliquez sur « Recalculer »."),
    # --- identity of actions, texts -----------------------------------------------------------
    ("NUMERO_MANQUANT", CONSTAT, E, "N° de fiche manquant",
     "Une action n'a pas de N° de fiche : sa fiche ne peut pas lui être rattachée.", "Saisissez le N°."),
    ("NUMERO_EN_DOUBLE", CONSTAT, E, "N° en double",
     "Le même N° de fiche apparaît plusieurs fois dans un bloc.", "Renumérotez l'une des actions."),
    ("INTITULE_MANQUANT", CONSTAT, E, "Intitulé manquant", "Une action n'a pas d'intitulé.",
     "Saisissez l'intitulé de l'action."),
    ("TEXTE_CARACTERES_INVALIDES", CONSTAT, W, "Caractères invisibles",
     "Un texte contient des caractères de contrôle (copiés d'un autre logiciel) ; ils sont retirés de ce que "
     "l'outil écrit.", "Ressaisissez le texte si besoin."),
    ("TEXTE_TROP_LONG", CONSTAT, W, "Texte trop long",
     "Un texte dépasse 32 767 caractères, la limite d'une cellule ; il est tronqué dans les fiches.",
     "Raccourcissez le texte."),
    # --- imputations Chorus ---------------------------------------------------------------------
    ("CHORUS_MANQUANT", CONSTAT, E, "Imputation Chorus manquante", "L'action n'a pas d'imputation Chorus.",
     "Choisissez le code dans la liste de la colonne « Imputation Chorus »."),
    ("CHORUS_MALFORME", CONSTAT, E, "Code Chorus mal formé",
     "Le code Chorus n'a pas la forme « 0304 50 19 19 07 » (douze chiffres).", "Corrigez le code."),
    ("CHORUS_INCONNU", CONSTAT, W, "Code Chorus hors référentiel",
     "Le code Chorus ne figure pas au référentiel (feuille « Paramètres »).",
     "Vérifiez le code, ou ajoutez-le au référentiel de la feuille « Paramètres »."),
    ("CHORUS_BLOC", CONSTAT, E, "Code Chorus d'un autre bloc",
     "Annexe financière : les initiatives locales s'imputent sur « … 10 », les actions du socle jamais.",
     "Choisissez le code du bloc de l'action."),
    ("CHORUS_THEME", CONSTAT, W, "Code Chorus inhabituel pour le thème",
     "Le code Chorus n'est pas celui sur lequel le thème s'impute d'ordinaire.", "Vérifiez le code."),
    # --- fiches, execution, indicators -------------------------------------------------------------
    ("VENTILATION_ECART", CONSTAT, W, "Ventilation incomplète",
     "La ventilation du budget dans la fiche ne totalise pas le budget global de l'action.",
     "Complétez ou corrigez la ventilation dans la fiche."),
    ("EXECUTION_DEPASSEE", CONSTAT, W, "Exécution supérieure au budget",
     "Le budget exécuté dépasse le budget global de l'action.", "Vérifiez le budget exécuté."),
    ("EXECUTION_TAUX", CONSTAT, INFO, "Taux d'exécution", "Le taux d'exécution de l'action, pour information.",
     "Rien à faire."),
    ("FICHE_ECART", CONSTAT, W, "Fiche et maquette en désaccord",
     "Un montant écrit dans le texte de la fiche action diffère de la maquette (d'un euro ou plus).",
     "Corrigez la fiche ou la maquette, pour qu'elles disent la même chose."),
    ("FICHE_MONTANT_ILLISIBLE", CONSTAT, W, "Montant illisible dans une fiche",
     "Un montant de la fiche action (budget exécuté, montants cités par la fiche, ventilation) n'est pas lisible : "
     "il n'est pas pris en compte dans les contrôles de la fiche.", "Saisissez-le en chiffres."),
    ("FICHE_ORPHELINE", CONSTAT, W, "Fiche sans action",
     "Une feuille de fiche correspond à une action qui n'est plus dans la maquette (ni sous son N°, ni sous un "
     "autre N° avec le même intitulé) ; elle est conservée telle quelle.",
     "Si l'action a été retirée, supprimez la feuille à la main ; si elle a changé de N°, saisissez le nouveau N° "
     "dans la ligne « Fiche action N° » de la fiche."),
    ("FEUILLES_HOMONYMES", CONSTAT, W, "Deux feuilles du même nom",
     "Deux feuilles du classeur ont des noms qui ne diffèrent que par les majuscules (« Journal » et « journal ») : "
     "Excel n'admet pas deux tels noms ; à l'ouverture, il répare le classeur en renommant ou en supprimant l'une "
     "d'elles.",
     "Renommez l'une des deux feuilles : un autre programme a pu les créer ainsi, ce qu'Excel n'autorise pas."),
    ("FICHE_RENUMEROTEE", CONSTAT, INFO, "Fiche d'une action renumérotée",
     "Une action a changé de N° en gardant son intitulé : sa fiche lui reste rattachée, avec ses textes.",
     "Rien à faire ; « Générer les fiches » met le N° de la fiche à jour. Renommez la feuille si vous le souhaitez."),
    ("INDICATEUR_ABSENT", CONSTAT, INFO, "Aucun indicateur",
     "Article 3 : l'action n'a aucun indicateur dans la matrice (feuille « Indicateurs »).",
     "Ajoutez ses indicateurs dans la feuille « Indicateurs »."),
    ("INDICATEUR_SANS_VALEUR", CONSTAT, INFO, "Indicateur sans valeur",
     "Article 3 : des indicateurs de l'action n'ont ni cible ni résultat pour l'année.",
     "Renseignez la cible ou le résultat dans la feuille « Indicateurs »."),
    ("ACTION_NON_CLASSEE", CONSTAT, E, "Action à classer",
     "L'action vient d'une convention convertie (calpae-xl convertir) et la correspondance ne lui a donné aucun "
     "axe : sa colonne « Axe » dit « À classer ». Elle est comptée provisoirement dans le groupe où se trouve sa "
     "ligne, jamais retirée.",
     "Choisissez son axe dans la colonne « Axe » de la maquette et sur la ligne « Bloc » de sa fiche (sinon la "
     "fiche n'est plus rattachée), puis cliquez sur « Recalculer » ; ou classez-la dans le fichier de "
     "correspondance et relancez la conversion."),
    ("CONTROLE_IMPOSSIBLE", CONSTAT, E, "Contrôle impossible",
     "Un contrôle n'a pas pu être mené (défaut de l'outil) : la maquette n'est pas déclarée correcte.",
     "Transmettez le fichier et le message à l'équipe calpae_xl."),
    # --- files: refused before reading --------------------------------------------------------------
    ("FICHIER_ABSENT", FICHIER, E, "Fichier absent", "Le fichier n'existe pas.", "Vérifiez le chemin."),
    ("FICHIER_INACCESSIBLE", FICHIER, E, "Fichier inaccessible",
     "Le fichier ne peut pas être lu (droits, fichier spécial…).", "Vérifiez les droits du fichier."),
    ("PAS_UN_FICHIER", FICHIER, E, "Pas un fichier",
     "Le chemin désigne un dossier, un tube nommé (FIFO) ou un périphérique, pas un fichier : il n'est ni lu ni "
     "écrit.", "Donnez le chemin d'un fichier (avec -o, un nom de fichier, pas un dossier)."),
    ("EXTENSION_INCONNUE", FICHIER, E, "Pas un classeur .xlsx",
     "Seuls les classeurs .xlsx et .xlsm sont lus.", "Enregistrez le classeur au format .xlsx."),
    ("XLS_ANCIEN", FICHIER, E, "Classeur Excel 97-2003",
     "Le fichier est un classeur .xls, ancien format.", "Enregistrez-le au format .xlsx et recommencez."),
    ("PAS_UN_CLASSEUR", FICHIER, E, "Pas un classeur",
     "Le contenu du fichier n'est pas un classeur Excel.", "Vérifiez le fichier transmis."),
    ("CLASSEUR_CHIFFRE", FICHIER, E, "Classeur protégé par mot de passe",
     "Le classeur est chiffré.", "Enregistrez-le sans mot de passe (Fichier > Informations > Protéger le "
     "classeur) et recommencez."),
    ("ZIP_ABIME", FICHIER, E, "Classeur abîmé", "L'archive du classeur est abîmée ou tronquée.",
     "Demandez une nouvelle copie du fichier."),
    ("ZIP_TROP_DE_PARTIES", FICHIER, E, "Classeur démesuré", "L'archive contient trop de parties.",
     "Vérifiez le fichier transmis."),
    ("ZIP_TROP_GROS", FICHIER, E, "Classeur démesuré", "Le classeur est trop gros une fois décompressé.",
     "Vérifiez le fichier transmis."),
    ("ZIP_BOMBE", FICHIER, E, "Archive piégée", "Le taux de compression d'une partie est anormal.",
     "Ne l'ouvrez pas ; signalez-le à votre service informatique."),
    ("XML_DTD", FICHIER, E, "Classeur piégé",
     "Une partie déclare une DTD ou des entités XML, dont aucun classeur n'a besoin.",
     "Ne l'ouvrez pas ; signalez-le à votre service informatique."),
    ("FEUILLE_DEMESUREE", FICHIER, E, "Feuille démesurée",
     "Une feuille contient trop de lignes, de colonnes, de cellules ou de fusions pour une maquette.",
     "Supprimez les lignes et colonnes inutiles, enregistrez et recommencez."),
    ("TEXTES_DEMESURES", FICHIER, E, "Textes démesurés", "Le classeur annonce un nombre de textes démesuré.",
     "Vérifiez le fichier transmis."),
    ("CLASSEUR_INVALIDE", FICHIER, E, "Classeur invalide",
     "Une partie du classeur n'a pas la forme attendue.", "Ouvrez-le dans Excel ou LibreOffice, enregistrez-le "
     "au format .xlsx, puis recommencez."),
    ("PARTIE_MANQUANTE", FICHIER, E, "Partie manquante", "Une partie nécessaire manque dans le classeur.",
     "Ouvrez-le dans Excel ou LibreOffice, enregistrez-le au format .xlsx, puis recommencez."),
    ("MAQUETTE_ABSENTE", FICHIER, E, "Pas de maquette",
     "Le classeur n'a pas de tableau reconnu (en-têtes « Fiche action N° », « Intitulé de l'action », "
     "montants…).", "Vérifiez que le tableau a sa ligne d'en-têtes dans les 40 premières lignes."),
    # --- files: refused at saving ---------------------------------------------------------------------
    ("ENREGISTREMENT_IMPOSSIBLE", FICHIER, E, "Enregistrement impossible",
     "Le résultat n'a pas pu être enregistré ; le fichier d'origine n'a pas été modifié.",
     "Vérifiez la place disque et les droits du dossier."),
    ("FICHIER_OUVERT", FICHIER, E, "Fichier ouvert",
     "Le fichier est ouvert dans Excel ou LibreOffice : il n'est pas écrasé.",
     "Fermez-le, puis recommencez."),
    ("FICHIER_MODIFIE", FICHIER, E, "Fichier modifié pendant le traitement",
     "Le fichier a changé sur le disque depuis sa lecture : il n'est pas écrasé.", "Relancez la commande."),
    ("FICHIER_LECTURE_SEULE", FICHIER, E, "Fichier en lecture seule",
     "Le fichier est protégé en écriture (lecture seule) : l'outil ne le remplace pas.",
     "Retirez la lecture seule (Propriétés du fichier, ou chmod u+w) si le fichier doit être modifié, ou écrivez "
     "une copie avec --sortie DOSSIER."),
    ("PROFIL_INVALIDE", FICHIER, E, "Profil de convention inutilisable",
     "Le profil donné par --profil n'existe pas ou son fichier n'est pas un profil valide : la commande ne fait rien "
     "plutôt que d'appliquer de mauvaises règles.",
     "Lisez la liste des problèmes affichée et corrigez le fichier TOML (voir le README, « Écrire son profil »), "
     "ou choisissez un profil livré (calpae-xl profils)."),
    ("ANNEE_SUIVANTE_IMPOSSIBLE", FICHIER, E, "Pas d'année suivante à préparer",
     "La commande « suivant » ne peut pas préparer l'année suivante : l'année de la convention n'est pas "
     "renseignée, ou le contrat pluriannuel est à sa dernière année.",
     "Renseignez « Année de la convention » dans « Paramètres » ; à la fin d'un contrat, créez la maquette du "
     "contrat suivant (calpae-xl nouveau)."),
    ("CORRESPONDANCE_INVALIDE", FICHIER, E, "Correspondance inutilisable",
     "Le fichier de correspondance des thèmes vers les axes (calpae-xl convertir --correspondance) n'est pas "
     "valide : la conversion ne se fait pas plutôt que de classer les actions au hasard.",
     "Lisez la liste des problèmes affichée et corrigez le fichier TOML (voir le README, « Passer d'une CALPAE à "
     "un contrat local des solidarités »)."),
    ("CONVERSION_IMPOSSIBLE", FICHIER, E, "Conversion impossible",
     "La commande « convertir » part d'une maquette CALPAE : le classeur donné est la maquette d'une autre "
     "convention.", "Donnez la maquette CALPAE à convertir (sa feuille « Paramètres » nomme le profil « calpae »)."),
    ("FICHIER_EXISTANT", FICHIER, E, "Le fichier de sortie existe déjà",
     "Le fichier à écrire existe déjà et son contenu diffère de ce que la commande produit : il n'est pas remplacé "
     "sans votre accord.", "Choisissez un autre nom, ou ajoutez --force pour le remplacer."),
    ("SORTIE_SUR_ENTREE", FICHIER, E, "Sortie sur un fichier lu",
     "Le fichier de sortie est l'un des fichiers que la commande lit : l'écrire détruirait une donnée.",
     "Choisissez un autre nom de sortie (-o)."),
    ("FICHIER_OCCUPE", FICHIER, E, "Fichier en cours de traitement",
     "Une autre commande calpae-xl travaille sur ce fichier, sur ce poste ; après une minute d'attente, la commande "
     "renonce sans rien modifier.", "Attendez la fin de l'autre commande, puis recommencez."),
    ("SAUVEGARDE_IMPOSSIBLE", FICHIER, E, "Copie de sauvegarde impossible",
     "Le nom de la copie de sauvegarde (NOM.bak.xlsx) est pris par un dossier ou par un fichier qui n'est pas un "
     "classeur : il n'est pas écrasé, et le fichier n'est pas modifié.",
     "Renommez ou déplacez ce NOM.bak.xlsx, puis recommencez."),
    ("ENREGISTREMENT_DESTRUCTEUR", FICHIER, E, "Enregistrement destructeur",
     "Enregistrer sans Excel ferait perdre des éléments du classeur.",
     "Écrivez une copie avec --sortie DOSSIER, ou utilisez les boutons du classeur dans Excel."),
    ("FEUILLE_NON_CALCUL", FICHIER, E, "Feuille de graphique",
     "Une feuille que l'outil doit écrire est une feuille de graphique.", "Renommez-la, puis recommencez."),
    ("ECRITURE_INVALIDE", FICHIER, E, "Écriture invalide",
     "Une feuille écrite par l'outil était mal formée : rien n'a été remplacé.",
     "Transmettez le fichier à l'équipe calpae_xl."),
    ("PDF_ECHEC", FICHIER, E, "PDF non produit",
     "L'annexe n'a pas pu être mise en page (un défaut de l'outil, ou des montants trop larges pour la page).",
     "Transmettez le classeur et le message à l'équipe calpae_xl."),
    ("ERREUR_INATTENDUE", FICHIER, E, "Erreur inattendue",
     "Un défaut de l'outil ; le fichier n'a pas été modifié.",
     "Transmettez le fichier et le message à l'équipe calpae_xl."),
)

CATALOGUE: dict[str, Entry] = {c: Entry(c, k, s, t, e, q) for c, k, s, t, e, q in _ENTRIES}


def entry(code: str) -> Entry:
    """The entry of a code; a code the catalogue lacks is a defect of the project."""
    try:
        return CATALOGUE[code]
    except KeyError:
        raise UnknownCode(code) from None


def severity(code: str) -> Severity:
    return entry(code).severity
